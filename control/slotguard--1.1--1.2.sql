-- slotguard 1.1 -> 1.2: hardening (privileges, replication, limits) and the
-- 1.2 features of the contract (API.md §8 (1.2), §10-§15).
\echo Use "ALTER EXTENSION slotguard UPDATE TO '1.2'" to load this file. \quit

-- Each part below is its own section; a new part gets a new section.
