-- Schema of release 6d53a55 (schema_version 1), made by its own code.
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	description VARCHAR(200) NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
CREATE TABLE orgs (
	org_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (org_id)
);
CREATE TABLE events (
	id INTEGER NOT NULL, 
	event_id VARCHAR(36) NOT NULL, 
	org_id VARCHAR(64) NOT NULL, 
	site_id VARCHAR(64) NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	seq BIGINT NOT NULL, 
	type VARCHAR(32) NOT NULL, 
	at DATETIME NOT NULL, 
	clock_synced BOOLEAN NOT NULL, 
	subject_id VARCHAR(64) NOT NULL, 
	received_at DATETIME NOT NULL, 
	raw TEXT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_events_device_seq UNIQUE (device_id, seq), 
	UNIQUE (event_id)
);
CREATE INDEX ix_events_subject ON events (subject_id);
CREATE INDEX ix_events_at ON events (at);
CREATE INDEX ix_events_org_type_id ON events (org_id, type, id);
CREATE TABLE rejections (
	id INTEGER NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	seq BIGINT, 
	event_id VARCHAR(80), 
	reason TEXT NOT NULL, 
	raw TEXT NOT NULL, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_rejections_device_seq UNIQUE (device_id, seq)
);
CREATE TABLE families (
	family_id VARCHAR(64) NOT NULL, 
	org_id VARCHAR(64) NOT NULL, 
	greeting_name VARCHAR(200) NOT NULL, 
	postcode VARCHAR(16) NOT NULL, 
	criteria JSON NOT NULL, 
	consent_date DATE, 
	heard_from VARCHAR(40), 
	adults INTEGER NOT NULL, 
	language VARCHAR(20), 
	registered_at DATETIME, 
	registered_site_id VARCHAR(64), 
	registered_device_id VARCHAR(64), 
	updated_at DATETIME NOT NULL, 
	updated_event_id VARCHAR(36) NOT NULL, 
	PRIMARY KEY (family_id)
);
CREATE INDEX ix_families_org_id ON families (org_id);
CREATE TABLE cards (
	org_id VARCHAR(64) NOT NULL, 
	uid VARCHAR(20) NOT NULL, 
	family_id VARCHAR(64) NOT NULL, 
	active BOOLEAN NOT NULL, 
	updated_at DATETIME NOT NULL, 
	updated_event_id VARCHAR(36) NOT NULL, 
	PRIMARY KEY (org_id, uid)
);
CREATE INDEX ix_cards_family_id ON cards (family_id);
CREATE TABLE attendances (
	attendance_id VARCHAR(36) NOT NULL, 
	org_id VARCHAR(64) NOT NULL, 
	site_id VARCHAR(64) NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	session_key VARCHAR(200) NOT NULL, 
	session_date DATE NOT NULL, 
	session_name VARCHAR(200) NOT NULL, 
	slot_id VARCHAR(64) NOT NULL, 
	family_id VARCHAR(64) NOT NULL, 
	adults INTEGER NOT NULL, 
	method VARCHAR(10) NOT NULL, 
	volunteer VARCHAR(200), 
	qualifies BOOLEAN NOT NULL, 
	reasons JSON NOT NULL, 
	risk_version VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	clock_synced BOOLEAN NOT NULL, 
	children_at DATETIME NOT NULL, 
	PRIMARY KEY (attendance_id)
);
CREATE INDEX ix_attendances_session ON attendances (session_key);
CREATE INDEX ix_attendances_org_date ON attendances (org_id, session_date);
CREATE INDEX ix_attendances_family_id ON attendances (family_id);
CREATE TABLE sites (
	org_id VARCHAR(64) NOT NULL, 
	site_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (org_id, site_id), 
	FOREIGN KEY(org_id) REFERENCES orgs (org_id)
);
CREATE TABLE users (
	name VARCHAR(64) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	org_id VARCHAR(64), 
	password_hash VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	disabled_at DATETIME, 
	PRIMARY KEY (name), 
	FOREIGN KEY(org_id) REFERENCES orgs (org_id)
);
CREATE TABLE children (
	family_id VARCHAR(64) NOT NULL, 
	child_id VARCHAR(64) NOT NULL, 
	first_name VARCHAR(200) NOT NULL, 
	born VARCHAR(7), 
	PRIMARY KEY (family_id, child_id), 
	FOREIGN KEY(family_id) REFERENCES families (family_id) ON DELETE CASCADE
);
CREATE TABLE attendance_children (
	attendance_id VARCHAR(36) NOT NULL, 
	child_id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (attendance_id, child_id), 
	FOREIGN KEY(attendance_id) REFERENCES attendances (attendance_id) ON DELETE CASCADE
);
CREATE TABLE devices (
	device_id VARCHAR(64) NOT NULL, 
	org_id VARCHAR(64) NOT NULL, 
	site_id VARCHAR(64) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	last_seen_at DATETIME, 
	holds_up_to BIGINT DEFAULT '0' NOT NULL, 
	PRIMARY KEY (device_id), 
	FOREIGN KEY(org_id, site_id) REFERENCES sites (org_id, site_id), 
	UNIQUE (token_hash)
);
INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'initial schema', '2026-11-23 11:23:41');
