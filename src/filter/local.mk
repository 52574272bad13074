# src/filter
