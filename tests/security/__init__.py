"""The adversarial suite (issue 15): each module is one category of attack, each case one row."""
