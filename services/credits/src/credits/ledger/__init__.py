"""学分台账: the append-only credit ledger, region rule sets, year close, balances and reports."""
