-- Schema of release 1771f0a (schema_version 8), made by its own code.
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: doorstep_release; Type: SCHEMA; Schema: -; Owner: -
--



--
-- Name: audit_log_append_only(); Type: FUNCTION; Schema: doorstep_release; Owner: -
--

CREATE FUNCTION audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = 'audit_log is append-only: ' || TG_OP || ' refused'; END $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: attendance_aggregates; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE attendance_aggregates (
    org_id character varying(64) NOT NULL,
    site_id character varying(64) NOT NULL,
    month character varying(7) NOT NULL,
    attendances integer NOT NULL,
    child_attendances integer NOT NULL,
    qualifying_child_attendances integer NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: attendance_children; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE attendance_children (
    attendance_id character varying(36) NOT NULL,
    child_id character varying(64) NOT NULL,
    org_id character varying(64) NOT NULL,
    session_date date NOT NULL,
    qualifies boolean NOT NULL
);


--
-- Name: attendance_reviews; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE attendance_reviews (
    attendance_id character varying(36) NOT NULL,
    decision character varying(10) NOT NULL,
    reviewed_by character varying(200) NOT NULL,
    note text,
    reviewed_at timestamp with time zone NOT NULL
);


--
-- Name: attendances; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE attendances (
    attendance_id character varying(36) NOT NULL,
    org_id character varying(64) NOT NULL,
    site_id character varying(64) NOT NULL,
    device_id character varying(64) NOT NULL,
    session_key character varying(200) NOT NULL,
    session_date date NOT NULL,
    session_name character varying(200) NOT NULL,
    slot_id character varying(64) NOT NULL,
    family_id character varying(64) NOT NULL,
    adults integer NOT NULL,
    method character varying(10) NOT NULL,
    volunteer character varying(200),
    qualifies boolean NOT NULL,
    reasons json NOT NULL,
    risk_version character varying(64) NOT NULL,
    at timestamp with time zone NOT NULL,
    clock_synced boolean NOT NULL,
    children_at timestamp with time zone NOT NULL
);


--
-- Name: audit_log; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE audit_log (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(200) NOT NULL,
    action character varying(64) NOT NULL,
    subject character varying(200) NOT NULL,
    detail text NOT NULL,
    prev_hash character varying(64) NOT NULL,
    hash character varying(64) NOT NULL
);


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: doorstep_release; Owner: -
--

CREATE SEQUENCE audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_log_id_seq; Type: SEQUENCE OWNED BY; Schema: doorstep_release; Owner: -
--

ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;


--
-- Name: cards; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE cards (
    org_id character varying(64) NOT NULL,
    uid character varying(20) NOT NULL,
    family_id character varying(64) NOT NULL,
    active boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    updated_event_id character varying(36) NOT NULL
);


--
-- Name: children; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE children (
    family_id character varying(64) NOT NULL,
    child_id character varying(64) NOT NULL,
    first_name character varying(200) NOT NULL,
    born character varying(7)
);


--
-- Name: device_status; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE device_status (
    device_id character varying(64) NOT NULL,
    received_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone NOT NULL,
    waiting integer NOT NULL,
    oldest_waiting_at timestamp with time zone,
    rejected integer NOT NULL,
    reasons json NOT NULL,
    conflicts integer NOT NULL,
    clock_synced boolean NOT NULL,
    software_version character varying(64) NOT NULL
);


--
-- Name: devices; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE devices (
    device_id character varying(64) NOT NULL,
    org_id character varying(64) NOT NULL,
    site_id character varying(64) NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    last_seen_at timestamp with time zone,
    holds_up_to bigint DEFAULT '0'::bigint NOT NULL
);


--
-- Name: erasures; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE erasures (
    id bigint NOT NULL,
    org_id character varying(64) NOT NULL,
    token character varying(64) NOT NULL,
    family_hash character varying(64) NOT NULL,
    requested_by character varying(200) NOT NULL,
    erased_at timestamp with time zone NOT NULL,
    summary json NOT NULL
);


--
-- Name: erasures_id_seq; Type: SEQUENCE; Schema: doorstep_release; Owner: -
--

CREATE SEQUENCE erasures_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: erasures_id_seq; Type: SEQUENCE OWNED BY; Schema: doorstep_release; Owner: -
--

ALTER SEQUENCE erasures_id_seq OWNED BY erasures.id;


--
-- Name: events; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE events (
    id bigint NOT NULL,
    event_id character varying(36) NOT NULL,
    org_id character varying(64) NOT NULL,
    site_id character varying(64) NOT NULL,
    device_id character varying(64) NOT NULL,
    seq bigint NOT NULL,
    type character varying(32) NOT NULL,
    at timestamp with time zone NOT NULL,
    clock_synced boolean NOT NULL,
    subject_id character varying(64) NOT NULL,
    received_at timestamp with time zone NOT NULL,
    raw text NOT NULL
);


--
-- Name: events_id_seq; Type: SEQUENCE; Schema: doorstep_release; Owner: -
--

CREATE SEQUENCE events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: events_id_seq; Type: SEQUENCE OWNED BY; Schema: doorstep_release; Owner: -
--

ALTER SEQUENCE events_id_seq OWNED BY events.id;


--
-- Name: families; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE families (
    family_id character varying(64) NOT NULL,
    org_id character varying(64) NOT NULL,
    greeting_name character varying(200) NOT NULL,
    postcode character varying(16) NOT NULL,
    criteria json NOT NULL,
    consent_date date,
    heard_from character varying(40),
    adults integer NOT NULL,
    language character varying(20),
    registered_at timestamp with time zone,
    registered_site_id character varying(64),
    registered_device_id character varying(64),
    updated_at timestamp with time zone NOT NULL,
    updated_event_id character varying(36) NOT NULL
);


--
-- Name: login_failures; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE login_failures (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    address character varying(64) NOT NULL
);


--
-- Name: login_failures_id_seq; Type: SEQUENCE; Schema: doorstep_release; Owner: -
--

CREATE SEQUENCE login_failures_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: login_failures_id_seq; Type: SEQUENCE OWNED BY; Schema: doorstep_release; Owner: -
--

ALTER SEQUENCE login_failures_id_seq OWNED BY login_failures.id;


--
-- Name: org_rates; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE org_rates (
    org_id character varying(64) NOT NULL,
    contract character varying(64) NOT NULL,
    effective_from date NOT NULL,
    amount_pence integer NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: orgs; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE orgs (
    org_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: privacy_salts; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE privacy_salts (
    org_id character varying(64) NOT NULL,
    salt character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: rejections; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE rejections (
    id bigint NOT NULL,
    device_id character varying(64) NOT NULL,
    seq bigint,
    event_id character varying(80),
    reason text NOT NULL,
    raw text NOT NULL,
    received_at timestamp with time zone NOT NULL
);


--
-- Name: rejections_id_seq; Type: SEQUENCE; Schema: doorstep_release; Owner: -
--

CREATE SEQUENCE rejections_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: rejections_id_seq; Type: SEQUENCE OWNED BY; Schema: doorstep_release; Owner: -
--

ALTER SEQUENCE rejections_id_seq OWNED BY rejections.id;


--
-- Name: retention_policies; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE retention_policies (
    org_id character varying(64) NOT NULL,
    years integer NOT NULL,
    policy character varying(10) NOT NULL,
    set_by character varying(200) NOT NULL,
    set_at timestamp with time zone NOT NULL
);


--
-- Name: retention_runs; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE retention_runs (
    id bigint NOT NULL,
    org_id character varying(64) NOT NULL,
    ran_at timestamp with time zone NOT NULL,
    ran_by character varying(200) NOT NULL,
    policy character varying(10) NOT NULL,
    cutoff date NOT NULL,
    attendances integer NOT NULL,
    child_attendances integer NOT NULL,
    events integer NOT NULL
);


--
-- Name: retention_runs_id_seq; Type: SEQUENCE; Schema: doorstep_release; Owner: -
--

CREATE SEQUENCE retention_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: retention_runs_id_seq; Type: SEQUENCE OWNED BY; Schema: doorstep_release; Owner: -
--

ALTER SEQUENCE retention_runs_id_seq OWNED BY retention_runs.id;


--
-- Name: risk_lists; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE risk_lists (
    org_id character varying(64) NOT NULL,
    number integer NOT NULL,
    digest character varying(64) NOT NULL,
    areas json NOT NULL,
    source character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    rule text,
    sources json
);


--
-- Name: schema_version; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE schema_version (
    version integer NOT NULL,
    description character varying(200) NOT NULL,
    applied_at timestamp with time zone NOT NULL
);


--
-- Name: seq_gaps; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE seq_gaps (
    id bigint NOT NULL,
    device_id character varying(64) NOT NULL,
    from_seq bigint NOT NULL,
    to_seq bigint NOT NULL,
    kind character varying(16) NOT NULL,
    detail text NOT NULL,
    sessions json NOT NULL,
    events integer,
    reported_at timestamp with time zone NOT NULL
);


--
-- Name: seq_gaps_id_seq; Type: SEQUENCE; Schema: doorstep_release; Owner: -
--

CREATE SEQUENCE seq_gaps_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: seq_gaps_id_seq; Type: SEQUENCE OWNED BY; Schema: doorstep_release; Owner: -
--

ALTER SEQUENCE seq_gaps_id_seq OWNED BY seq_gaps.id;


--
-- Name: server_meta; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE server_meta (
    key character varying(64) NOT NULL,
    value character varying(200) NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: site_sessions; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE site_sessions (
    org_id character varying(64) NOT NULL,
    site_id character varying(64) NOT NULL,
    slot_id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    weekday integer,
    on_date date,
    start_time character varying(5) NOT NULL,
    end_time character varying(5) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: sites; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE sites (
    org_id character varying(64) NOT NULL,
    site_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: user_grants; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE user_grants (
    user_name character varying(64) NOT NULL,
    "grant" character varying(32) NOT NULL,
    granted_by character varying(200) NOT NULL,
    granted_at timestamp with time zone NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE users (
    name character varying(64) NOT NULL,
    role character varying(20) NOT NULL,
    org_id character varying(64),
    password_hash character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    disabled_at timestamp with time zone
);


--
-- Name: audit_log id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq'::regclass);


--
-- Name: erasures id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY erasures ALTER COLUMN id SET DEFAULT nextval('erasures_id_seq'::regclass);


--
-- Name: events id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY events ALTER COLUMN id SET DEFAULT nextval('events_id_seq'::regclass);


--
-- Name: login_failures id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY login_failures ALTER COLUMN id SET DEFAULT nextval('login_failures_id_seq'::regclass);


--
-- Name: rejections id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY rejections ALTER COLUMN id SET DEFAULT nextval('rejections_id_seq'::regclass);


--
-- Name: retention_runs id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY retention_runs ALTER COLUMN id SET DEFAULT nextval('retention_runs_id_seq'::regclass);


--
-- Name: seq_gaps id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY seq_gaps ALTER COLUMN id SET DEFAULT nextval('seq_gaps_id_seq'::regclass);


--
-- Name: attendance_aggregates attendance_aggregates_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY attendance_aggregates
    ADD CONSTRAINT attendance_aggregates_pkey PRIMARY KEY (org_id, site_id, month);


--
-- Name: attendance_children attendance_children_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY attendance_children
    ADD CONSTRAINT attendance_children_pkey PRIMARY KEY (attendance_id, child_id);


--
-- Name: attendance_reviews attendance_reviews_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY attendance_reviews
    ADD CONSTRAINT attendance_reviews_pkey PRIMARY KEY (attendance_id);


--
-- Name: attendances attendances_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY attendances
    ADD CONSTRAINT attendances_pkey PRIMARY KEY (attendance_id);


--
-- Name: audit_log audit_log_hash_key; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY audit_log
    ADD CONSTRAINT audit_log_hash_key UNIQUE (hash);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: cards cards_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY cards
    ADD CONSTRAINT cards_pkey PRIMARY KEY (org_id, uid);


--
-- Name: children children_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY children
    ADD CONSTRAINT children_pkey PRIMARY KEY (family_id, child_id);


--
-- Name: device_status device_status_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY device_status
    ADD CONSTRAINT device_status_pkey PRIMARY KEY (device_id);


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (device_id);


--
-- Name: devices devices_token_hash_key; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY devices
    ADD CONSTRAINT devices_token_hash_key UNIQUE (token_hash);


--
-- Name: erasures erasures_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY erasures
    ADD CONSTRAINT erasures_pkey PRIMARY KEY (id);


--
-- Name: erasures erasures_token_key; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY erasures
    ADD CONSTRAINT erasures_token_key UNIQUE (token);


--
-- Name: events events_event_id_key; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY events
    ADD CONSTRAINT events_event_id_key UNIQUE (event_id);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);


--
-- Name: families families_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY families
    ADD CONSTRAINT families_pkey PRIMARY KEY (family_id);


--
-- Name: login_failures login_failures_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY login_failures
    ADD CONSTRAINT login_failures_pkey PRIMARY KEY (id);


--
-- Name: org_rates org_rates_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY org_rates
    ADD CONSTRAINT org_rates_pkey PRIMARY KEY (org_id, contract, effective_from);


--
-- Name: orgs orgs_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY orgs
    ADD CONSTRAINT orgs_pkey PRIMARY KEY (org_id);


--
-- Name: privacy_salts privacy_salts_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY privacy_salts
    ADD CONSTRAINT privacy_salts_pkey PRIMARY KEY (org_id);


--
-- Name: rejections rejections_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY rejections
    ADD CONSTRAINT rejections_pkey PRIMARY KEY (id);


--
-- Name: retention_policies retention_policies_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY retention_policies
    ADD CONSTRAINT retention_policies_pkey PRIMARY KEY (org_id);


--
-- Name: retention_runs retention_runs_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY retention_runs
    ADD CONSTRAINT retention_runs_pkey PRIMARY KEY (id);


--
-- Name: risk_lists risk_lists_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY risk_lists
    ADD CONSTRAINT risk_lists_pkey PRIMARY KEY (org_id, number);


--
-- Name: schema_version schema_version_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (version);


--
-- Name: seq_gaps seq_gaps_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY seq_gaps
    ADD CONSTRAINT seq_gaps_pkey PRIMARY KEY (id);


--
-- Name: server_meta server_meta_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY server_meta
    ADD CONSTRAINT server_meta_pkey PRIMARY KEY (key);


--
-- Name: site_sessions site_sessions_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY site_sessions
    ADD CONSTRAINT site_sessions_pkey PRIMARY KEY (org_id, site_id, slot_id);


--
-- Name: sites sites_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY sites
    ADD CONSTRAINT sites_pkey PRIMARY KEY (org_id, site_id);


--
-- Name: erasures uq_erasures_org_family; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY erasures
    ADD CONSTRAINT uq_erasures_org_family UNIQUE (org_id, family_hash);


--
-- Name: events uq_events_device_seq; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY events
    ADD CONSTRAINT uq_events_device_seq UNIQUE (device_id, seq);


--
-- Name: rejections uq_rejections_device_seq; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY rejections
    ADD CONSTRAINT uq_rejections_device_seq UNIQUE (device_id, seq);


--
-- Name: seq_gaps uq_seq_gaps_range; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY seq_gaps
    ADD CONSTRAINT uq_seq_gaps_range UNIQUE (device_id, from_seq, to_seq, kind);


--
-- Name: user_grants user_grants_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY user_grants
    ADD CONSTRAINT user_grants_pkey PRIMARY KEY (user_name, "grant");


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY users
    ADD CONSTRAINT users_pkey PRIMARY KEY (name);


--
-- Name: ix_attendance_children_org_date; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_attendance_children_org_date ON attendance_children USING btree (org_id, session_date);


--
-- Name: ix_attendances_family_id; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_attendances_family_id ON attendances USING btree (family_id);


--
-- Name: ix_attendances_org_date; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_attendances_org_date ON attendances USING btree (org_id, session_date);


--
-- Name: ix_attendances_org_family_date; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_attendances_org_family_date ON attendances USING btree (org_id, family_id, session_date);


--
-- Name: ix_attendances_session; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_attendances_session ON attendances USING btree (session_key);


--
-- Name: ix_audit_log_action; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_audit_log_action ON audit_log USING btree (action);


--
-- Name: ix_audit_log_at; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_audit_log_at ON audit_log USING btree (at);


--
-- Name: ix_cards_family_id; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_cards_family_id ON cards USING btree (family_id);


--
-- Name: ix_erasures_org_id; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_erasures_org_id ON erasures USING btree (org_id, id);


--
-- Name: ix_events_at; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_events_at ON events USING btree (at);


--
-- Name: ix_events_org_type_id; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_events_org_type_id ON events USING btree (org_id, type, id);


--
-- Name: ix_events_subject; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_events_subject ON events USING btree (subject_id);


--
-- Name: ix_families_org_id; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_families_org_id ON families USING btree (org_id);


--
-- Name: ix_login_failures_address_at; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_login_failures_address_at ON login_failures USING btree (address, at);


--
-- Name: ix_login_failures_name_at; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_login_failures_name_at ON login_failures USING btree (name, at);


--
-- Name: ix_seq_gaps_device_from; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_seq_gaps_device_from ON seq_gaps USING btree (device_id, from_seq);


--
-- Name: audit_log audit_log_no_change; Type: TRIGGER; Schema: doorstep_release; Owner: -
--

CREATE TRIGGER audit_log_no_change BEFORE DELETE OR UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();


--
-- Name: audit_log audit_log_no_truncate; Type: TRIGGER; Schema: doorstep_release; Owner: -
--

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();


--
-- Name: attendance_children attendance_children_attendance_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY attendance_children
    ADD CONSTRAINT attendance_children_attendance_id_fkey FOREIGN KEY (attendance_id) REFERENCES attendances(attendance_id) ON DELETE CASCADE;


--
-- Name: children children_family_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY children
    ADD CONSTRAINT children_family_id_fkey FOREIGN KEY (family_id) REFERENCES families(family_id) ON DELETE CASCADE;


--
-- Name: devices devices_org_id_site_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY devices
    ADD CONSTRAINT devices_org_id_site_id_fkey FOREIGN KEY (org_id, site_id) REFERENCES sites(org_id, site_id);


--
-- Name: org_rates org_rates_org_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY org_rates
    ADD CONSTRAINT org_rates_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(org_id);


--
-- Name: privacy_salts privacy_salts_org_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY privacy_salts
    ADD CONSTRAINT privacy_salts_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(org_id);


--
-- Name: retention_policies retention_policies_org_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY retention_policies
    ADD CONSTRAINT retention_policies_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(org_id);


--
-- Name: risk_lists risk_lists_org_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY risk_lists
    ADD CONSTRAINT risk_lists_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(org_id);


--
-- Name: site_sessions site_sessions_org_id_site_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY site_sessions
    ADD CONSTRAINT site_sessions_org_id_site_id_fkey FOREIGN KEY (org_id, site_id) REFERENCES sites(org_id, site_id);


--
-- Name: sites sites_org_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY sites
    ADD CONSTRAINT sites_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(org_id);


--
-- Name: user_grants user_grants_user_name_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY user_grants
    ADD CONSTRAINT user_grants_user_name_fkey FOREIGN KEY (user_name) REFERENCES users(name);


--
-- Name: users users_org_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY users
    ADD CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(org_id);


--
-- PostgreSQL database dump complete
--


INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'initial schema', '2026-12-03 19:00:14');
INSERT INTO schema_version (version, description, applied_at) VALUES (2, 'organisation rates', '2026-12-03 19:00:14');
INSERT INTO schema_version (version, description, applied_at) VALUES (3, 'recovery: seq gaps, server timetable and risk lists', '2026-12-03 19:00:14');
INSERT INTO schema_version (version, description, applied_at) VALUES (4, 'reach: indexed child attendances by organisation and date', '2026-12-03 19:00:14');
INSERT INTO schema_version (version, description, applied_at) VALUES (5, 'family rights: erasures and retention', '2026-12-03 19:00:14');
INSERT INTO schema_version (version, description, applied_at) VALUES (6, 'audit log, grants and login throttling', '2026-12-03 19:00:14');
INSERT INTO schema_version (version, description, applied_at) VALUES (7, 'risk lists: rule and source files', '2026-12-03 19:00:14');
INSERT INTO schema_version (version, description, applied_at) VALUES (8, 'kiosk health: each kiosk''s latest status report', '2026-12-03 19:00:14');
