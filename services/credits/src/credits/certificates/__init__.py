"""继续教育证书: certificates (PDF), their codes and public verification."""
