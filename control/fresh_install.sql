-- The last part of a fresh install of slotguard (the generated
-- slotguard--<version>.sql is slotguard--1.0.sql, every upgrade script in
-- order, then this file). Not run by ALTER EXTENSION UPDATE: an updated
-- database keeps the grants it had.
--
-- Secure by default (API.md §8 (1.2)): PUBLIC gets nothing. A DBA gives a
-- role what it needs with slotguard.grant_access(role[, admin => true]).
REVOKE ALL ON SCHEMA slotguard FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA slotguard FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA slotguard FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA slotguard FROM PUBLIC;
