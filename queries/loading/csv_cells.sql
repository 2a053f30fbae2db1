-- The cells of a delimited file, every one as text and a missing cell as '' (as Python's csv
-- module reads it), in file order, read by DuckDB with the dialect detected beforehand (no
-- sniffing: DuckDB's own sniffer misread quoted separators); rows of the wrong width are kept
-- aside in reject_errors. Columns are positional (c0, c1, …): header names are user text and
-- stay in Python.
-- params: $path (text), $columns (struct name -> type), $delimiter (text), $quote (text)
select coalesce(columns(*), '')
from read_csv($path, auto_detect = false, header = false, columns = $columns,
              delim = $delimiter, quote = $quote, escape = $quote,
              store_rejects = true, strict_mode = true)
