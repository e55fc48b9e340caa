"""Differential tests: the planned executor against strawberry's, answer byte for answer byte."""
