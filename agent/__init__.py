"""ccw-agent: assigns CCW orders to Smart Accounts by driving the portal's UI."""
