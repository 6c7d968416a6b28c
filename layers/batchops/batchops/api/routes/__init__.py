"""The core routes of the HTTP API, one Powertools Router per resource; families bring their own."""
