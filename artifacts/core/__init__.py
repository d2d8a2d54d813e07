"""What every artifact kind shares: the abstract model of its display fields (models.py) and the
one set of rules for them (metadata.py)."""
