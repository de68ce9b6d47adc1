"""`python -m mock_site` with --port, --seed, --profile, --release and --locale serves the mock."""

from mock_site.server import main

main()
