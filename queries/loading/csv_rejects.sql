-- Records DuckDB could not read: line (a record number, exact only when no cell spans lines),
-- kind of error and the raw text.
-- params: (none)
select line, error_type, csv_line from reject_errors order by line
