# src/har
