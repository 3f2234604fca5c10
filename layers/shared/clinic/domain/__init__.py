"""Pure domain rules: time grid and working hours, booking checks, lifecycle, people. No boto3 here."""
