-- When the person made the choice a record carries. A copy to another device ('sync') or a
-- GPC downgrade keeps the original time, so neither restarts the six-month consent period.
-- Rows from before this column read it as NULL and count from recorded_at.
ALTER TABLE consent_records ADD COLUMN given_at REAL;
