-- Every record's cells as text, a missing cell as '' (as Python's csv module reads it), in
-- file order.
-- params: (none)
select coalesce(columns(*), '') from cells
