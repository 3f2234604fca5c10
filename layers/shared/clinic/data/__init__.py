"""DynamoDB access: the only code that knows table names, keys, indexes and condition expressions."""
