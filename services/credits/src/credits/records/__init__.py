"""线下学时审核: offline training records entered by institutions, reviewed by county and city."""
