"""``tokuden bench``: the gateway against a bare relay and Postfix, in one run (issue 6)."""
