-- A login role that can read every table the migrations create, and nothing else: Grafana's PostgreSQL
-- datasource connects with it. Run by ops/postgres/init-grafana-reader.sh when the compose database is
-- first created, before any migration, so that default privileges cover the tables (and the daily
-- partitions) that `fraudstream migrate` and the workers create later as the owner.
-- psql variables: reader (role name), password, owner (the role that runs the migrations).
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
GRANT CONNECT ON DATABASE :"database" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
-- A dashboard query that runs away is cut off rather than loading the database that scores events.
ALTER ROLE :"reader" SET statement_timeout = '30s';
ALTER ROLE :"reader" SET default_transaction_read_only = on;
