"""Personal data in plant text: found with Presidio, replaced by consistent pseudonyms before publication."""
