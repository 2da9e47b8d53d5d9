"""Operations: backup/restore and structured, rotated logs."""
