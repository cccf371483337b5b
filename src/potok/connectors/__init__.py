"""Connectors: outside systems (carriers, marketplaces, ERP) behind one interface each.

Every host a connector calls is a setting, so that sandboxes and simulators can stand in.
"""
