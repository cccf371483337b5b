"""1C:Enterprise's exchange with sites (CommerceML 2): its files in and out of Potok's terms."""
