-- The EMS role and databases. The postgres image runs this once, as the superuser,
-- when its data volume is empty (/docker-entrypoint-initdb.d). `ems prepare` then
-- migrates the databases; it would also create any that were missing, hence
-- CREATEDB (needed, for example, with EMS_DB_PREFIX).
-- Each database belongs to ems, so ems owns its public schema and may create tables.

CREATE ROLE ems WITH LOGIN PASSWORD 'ems' CREATEDB;

CREATE DATABASE authdb OWNER ems;
CREATE DATABASE userdb OWNER ems;
CREATE DATABASE devicedb OWNER ems;
