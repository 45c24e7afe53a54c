"""A synthetic demo shop: a pure generator (`shop`) and its loader through the import framework (`load`)."""
