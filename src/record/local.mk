# src/record
