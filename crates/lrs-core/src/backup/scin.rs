//! SQL Server SCIN header (in progress).
