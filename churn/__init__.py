"""churn: the domain of the churn-prediction service.

Imports only the standard library and itself (checked by import-linter in the test command).
"""
