-- Schema of release e9fcf3f (schema_version 3), made by its own code.
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



SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: attendance_children; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE attendance_children (
    attendance_id character varying(36) NOT NULL,
    child_id character varying(64) NOT NULL
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
-- Name: risk_lists; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE risk_lists (
    org_id character varying(64) NOT NULL,
    number integer NOT NULL,
    digest character varying(64) NOT NULL,
    areas json NOT NULL,
    source character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL
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
-- Name: events id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY events ALTER COLUMN id SET DEFAULT nextval('events_id_seq'::regclass);


--
-- Name: rejections id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY rejections ALTER COLUMN id SET DEFAULT nextval('rejections_id_seq'::regclass);


--
-- Name: seq_gaps id; Type: DEFAULT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY seq_gaps ALTER COLUMN id SET DEFAULT nextval('seq_gaps_id_seq'::regclass);


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
-- Name: rejections rejections_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY rejections
    ADD CONSTRAINT rejections_pkey PRIMARY KEY (id);


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
-- Name: users users_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY users
    ADD CONSTRAINT users_pkey PRIMARY KEY (name);


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
-- Name: ix_cards_family_id; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_cards_family_id ON cards USING btree (family_id);


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
-- Name: ix_seq_gaps_device_from; Type: INDEX; Schema: doorstep_release; Owner: -
--

CREATE INDEX ix_seq_gaps_device_from ON seq_gaps USING btree (device_id, from_seq);


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
-- Name: users users_org_id_fkey; Type: FK CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY users
    ADD CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(org_id);


--
-- PostgreSQL database dump complete
--


INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'initial schema', '2026-11-23 12:28:27');
INSERT INTO schema_version (version, description, applied_at) VALUES (2, 'organisation rates', '2026-11-23 12:28:27');
INSERT INTO schema_version (version, description, applied_at) VALUES (3, 'recovery: seq gaps, server timetable and risk lists', '2026-11-23 12:28:27');
