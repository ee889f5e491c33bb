-- Schema of release 6d53a55 (schema_version 1), made by its own code.
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
-- Name: schema_version; Type: TABLE; Schema: doorstep_release; Owner: -
--

CREATE TABLE schema_version (
    version integer NOT NULL,
    description character varying(200) NOT NULL,
    applied_at timestamp with time zone NOT NULL
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
-- Name: attendance_children attendance_children_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY attendance_children
    ADD CONSTRAINT attendance_children_pkey PRIMARY KEY (attendance_id, child_id);


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
-- Name: schema_version schema_version_pkey; Type: CONSTRAINT; Schema: doorstep_release; Owner: -
--

ALTER TABLE ONLY schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (version);


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


INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'initial schema', '2026-11-23 11:23:41');
