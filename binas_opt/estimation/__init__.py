"""Estimators from data: additive tables fitted by least squares and regression predictors."""
