"""`python -m mock_site --port N --seed S --profile P --release R` serves the mock portal."""

from mock_site.server import main

main()
