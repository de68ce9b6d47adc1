"""`python -m mock_site --port N --seed S --profile none|portal-like` serves the mock portal."""

from mock_site.server import main

main()
