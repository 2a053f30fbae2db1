"""Handoff: a funnel dashboard for marketing and sales, over their own exports."""

from handoff import allocator

allocator.tune()  # before any column is built: see allocator's docstring
