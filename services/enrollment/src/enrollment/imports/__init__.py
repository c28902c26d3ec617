"""教师信息批量导入与导出: bulk import of teachers from XLSX/CSV, and XLSX exports."""
