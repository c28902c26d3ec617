"""学校: where each school sits in the org tree, as enrollment's events say (a read model)."""
