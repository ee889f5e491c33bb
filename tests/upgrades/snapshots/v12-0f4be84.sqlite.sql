-- Schema of release 0f4be84 (schema_version 12), made by its own code.
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	description VARCHAR(200) NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
CREATE TABLE orgs (
	org_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	name VARCHAR(200), 
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
CREATE INDEX ix_events_org_type_id ON events (org_id, type, id);
CREATE INDEX ix_events_subject ON events (subject_id);
CREATE INDEX ix_events_at ON events (at);
CREATE TABLE rejections (
	id INTEGER NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	seq BIGINT, 
	event_id VARCHAR(80), 
	reason TEXT NOT NULL, 
	raw TEXT NOT NULL, 
	received_at DATETIME NOT NULL, 
	digest VARCHAR(64), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_rejections_device_seq UNIQUE (device_id, seq)
);
CREATE INDEX ix_rejections_device_digest ON rejections (device_id, digest);
CREATE TABLE event_conflicts (
	id INTEGER NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	event_id VARCHAR(36) NOT NULL, 
	digest VARCHAR(64) NOT NULL, 
	differs JSON NOT NULL, 
	raw TEXT NOT NULL, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_event_conflicts_copy UNIQUE (device_id, event_id, digest)
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
CREATE INDEX ix_attendances_org_date ON attendances (org_id, session_date);
CREATE INDEX ix_attendances_session ON attendances (session_key);
CREATE INDEX ix_attendances_family_id ON attendances (family_id);
CREATE INDEX ix_attendances_org_family_date ON attendances (org_id, family_id, session_date);
CREATE TABLE attendance_reviews (
	attendance_id VARCHAR(36) NOT NULL, 
	decision VARCHAR(10) NOT NULL, 
	reviewed_by VARCHAR(200) NOT NULL, 
	note TEXT, 
	reviewed_at DATETIME NOT NULL, 
	PRIMARY KEY (attendance_id)
);
CREATE TABLE server_meta (
	"key" VARCHAR(64) NOT NULL, 
	value VARCHAR(200) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE seq_gaps (
	id INTEGER NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	from_seq BIGINT NOT NULL, 
	to_seq BIGINT NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	detail TEXT NOT NULL, 
	sessions JSON NOT NULL, 
	events INTEGER, 
	reported_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_seq_gaps_range UNIQUE (device_id, from_seq, to_seq, kind)
);
CREATE INDEX ix_seq_gaps_device_from ON seq_gaps (device_id, from_seq);
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(200) NOT NULL, 
	action VARCHAR(64) NOT NULL, 
	subject VARCHAR(200) NOT NULL, 
	detail TEXT NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (hash)
);
CREATE INDEX ix_audit_log_action ON audit_log (action);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TABLE login_failures (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	address VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_login_failures_address_at ON login_failures (address, at);
CREATE INDEX ix_login_failures_name_at ON login_failures (name, at);
CREATE TABLE erasures (
	id INTEGER NOT NULL, 
	org_id VARCHAR(64) NOT NULL, 
	token VARCHAR(64) NOT NULL, 
	family_hash VARCHAR(64) NOT NULL, 
	requested_by VARCHAR(200) NOT NULL, 
	erased_at DATETIME NOT NULL, 
	summary JSON NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_erasures_org_family UNIQUE (org_id, family_hash), 
	UNIQUE (token)
);
CREATE INDEX ix_erasures_org_id ON erasures (org_id, id);
CREATE TABLE attendance_aggregates (
	org_id VARCHAR(64) NOT NULL, 
	site_id VARCHAR(64) NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	attendances INTEGER NOT NULL, 
	child_attendances INTEGER NOT NULL, 
	qualifying_child_attendances INTEGER NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (org_id, site_id, month)
);
CREATE TABLE retention_runs (
	id INTEGER NOT NULL, 
	org_id VARCHAR(64) NOT NULL, 
	ran_at DATETIME NOT NULL, 
	ran_by VARCHAR(200) NOT NULL, 
	policy VARCHAR(10) NOT NULL, 
	cutoff DATE NOT NULL, 
	attendances INTEGER NOT NULL, 
	child_attendances INTEGER NOT NULL, 
	events INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE device_status (
	device_id VARCHAR(64) NOT NULL, 
	received_at DATETIME NOT NULL, 
	sent_at DATETIME NOT NULL, 
	waiting INTEGER NOT NULL, 
	oldest_waiting_at DATETIME, 
	rejected INTEGER NOT NULL, 
	reasons JSON NOT NULL, 
	conflicts INTEGER NOT NULL, 
	clock_synced BOOLEAN NOT NULL, 
	software_version VARCHAR(64) NOT NULL, 
	PRIMARY KEY (device_id)
);
CREATE TABLE postcode_areas (
	postcode VARCHAR(8) NOT NULL, 
	lsoa VARCHAR(9) NOT NULL, 
	ward VARCHAR(9) NOT NULL, 
	district VARCHAR(9) NOT NULL, 
	live BOOLEAN NOT NULL, 
	PRIMARY KEY (postcode)
);
CREATE INDEX ix_postcode_areas_lsoa ON postcode_areas (lsoa);
CREATE TABLE lsoa_areas (
	lsoa VARCHAR(9) NOT NULL, 
	imd_rank INTEGER, 
	imd_decile INTEGER, 
	ward VARCHAR(9) NOT NULL, 
	district VARCHAR(9) NOT NULL, 
	district_name VARCHAR(200) DEFAULT '' NOT NULL, 
	PRIMARY KEY (lsoa)
);
CREATE TABLE area_imports (
	kind VARCHAR(20) NOT NULL, 
	source TEXT NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	vintage INTEGER, 
	rows INTEGER NOT NULL, 
	imported_at DATETIME NOT NULL, 
	PRIMARY KEY (kind)
);
CREATE TABLE population_versions (
	number INTEGER NOT NULL, 
	source VARCHAR(200) NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	layout VARCHAR(20) NOT NULL, 
	vintage INTEGER, 
	lsoas INTEGER NOT NULL, 
	people BIGINT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (number)
);
CREATE TABLE lsoa_boundaries (
	lsoa VARCHAR(9) NOT NULL, 
	name VARCHAR(200) DEFAULT '' NOT NULL, 
	geometry JSON NOT NULL, 
	PRIMARY KEY (lsoa)
);
CREATE TABLE sites (
	org_id VARCHAR(64) NOT NULL, 
	site_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	name VARCHAR(200), 
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
	org_id VARCHAR(64) NOT NULL, 
	session_date DATE NOT NULL, 
	qualifies BOOLEAN NOT NULL, 
	PRIMARY KEY (attendance_id, child_id), 
	FOREIGN KEY(attendance_id) REFERENCES attendances (attendance_id) ON DELETE CASCADE
);
CREATE INDEX ix_attendance_children_org_date ON attendance_children (org_id, session_date);
CREATE TABLE org_rates (
	org_id VARCHAR(64) NOT NULL, 
	contract VARCHAR(64) NOT NULL, 
	effective_from DATE NOT NULL, 
	amount_pence INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (org_id, contract, effective_from), 
	FOREIGN KEY(org_id) REFERENCES orgs (org_id)
);
CREATE TABLE invoices (
	number VARCHAR(120) NOT NULL, 
	org_id VARCHAR(64) NOT NULL, 
	contract VARCHAR(64) NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	issued_at DATETIME NOT NULL, 
	issued_by VARCHAR(200) NOT NULL, 
	count INTEGER NOT NULL, 
	total_pence INTEGER NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	sheet_csv TEXT NOT NULL, 
	sheet JSON NOT NULL, 
	voided_at DATETIME, 
	voided_by VARCHAR(200), 
	void_reason TEXT, 
	PRIMARY KEY (number), 
	FOREIGN KEY(org_id) REFERENCES orgs (org_id)
);
CREATE INDEX ix_invoices_org_month ON invoices (org_id, contract, month);
CREATE TABLE risk_lists (
	org_id VARCHAR(64) NOT NULL, 
	number INTEGER NOT NULL, 
	digest VARCHAR(64) NOT NULL, 
	areas JSON NOT NULL, 
	source VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	rule TEXT, 
	sources JSON, 
	PRIMARY KEY (org_id, number), 
	FOREIGN KEY(org_id) REFERENCES orgs (org_id)
);
CREATE TABLE privacy_salts (
	org_id VARCHAR(64) NOT NULL, 
	salt VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (org_id), 
	FOREIGN KEY(org_id) REFERENCES orgs (org_id)
);
CREATE TABLE retention_policies (
	org_id VARCHAR(64) NOT NULL, 
	years INTEGER NOT NULL, 
	policy VARCHAR(10) NOT NULL, 
	set_by VARCHAR(200) NOT NULL, 
	set_at DATETIME NOT NULL, 
	PRIMARY KEY (org_id), 
	FOREIGN KEY(org_id) REFERENCES orgs (org_id)
);
CREATE TABLE population_estimates (
	version INTEGER NOT NULL, 
	lsoa VARCHAR(9) NOT NULL, 
	counts JSON NOT NULL, 
	PRIMARY KEY (version, lsoa), 
	FOREIGN KEY(version) REFERENCES population_versions (number) ON DELETE CASCADE
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
	unkept_rejections BIGINT DEFAULT '0' NOT NULL, 
	PRIMARY KEY (device_id), 
	FOREIGN KEY(org_id, site_id) REFERENCES sites (org_id, site_id), 
	UNIQUE (token_hash)
);
CREATE TABLE invoice_lines (
	number VARCHAR(120) NOT NULL, 
	attendance_id VARCHAR(36) NOT NULL, 
	child_id VARCHAR(64) NOT NULL, 
	family_id VARCHAR(64) NOT NULL, 
	kind VARCHAR(10) NOT NULL, 
	status VARCHAR(10) NOT NULL, 
	session_date DATE NOT NULL, 
	amount_pence INTEGER, 
	PRIMARY KEY (number, attendance_id, child_id), 
	FOREIGN KEY(number) REFERENCES invoices (number) ON DELETE CASCADE
);
CREATE INDEX ix_invoice_lines_attendance ON invoice_lines (attendance_id);
CREATE TABLE site_sessions (
	org_id VARCHAR(64) NOT NULL, 
	site_id VARCHAR(64) NOT NULL, 
	slot_id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	weekday INTEGER, 
	on_date DATE, 
	start_time VARCHAR(5) NOT NULL, 
	end_time VARCHAR(5) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (org_id, site_id, slot_id), 
	FOREIGN KEY(org_id, site_id) REFERENCES sites (org_id, site_id)
);
CREATE TABLE user_grants (
	user_name VARCHAR(64) NOT NULL, 
	grant VARCHAR(32) NOT NULL, 
	granted_by VARCHAR(200) NOT NULL, 
	granted_at DATETIME NOT NULL, 
	PRIMARY KEY (user_name, grant), 
	FOREIGN KEY(user_name) REFERENCES users (name)
);
CREATE TABLE web_sessions (
	id_hash VARCHAR(64) NOT NULL, 
	user_name VARCHAR(64) NOT NULL, 
	password_check VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (id_hash), 
	FOREIGN KEY(user_name) REFERENCES users (name)
);
CREATE INDEX ix_web_sessions_expires_at ON web_sessions (expires_at);
CREATE INDEX ix_web_sessions_user_name ON web_sessions (user_name);
INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'initial schema', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (2, 'organisation rates', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (3, 'recovery: seq gaps, server timetable and risk lists', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (4, 'reach: indexed child attendances by organisation and date', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (5, 'family rights: erasures and retention', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (6, 'audit log, grants and login throttling', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (7, 'risk lists: rule and source files', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (8, 'kiosk health: each kiosk''s latest status report', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (9, 'refusal quotas and conflicting copies of events', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (10, 'dashboard sessions kept by the server', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (11, 'issued invoices; names of organisations and sites', '2026-12-04 04:18:01');
INSERT INTO schema_version (version, description, applied_at) VALUES (12, 'geography: postcode directory, population and boundaries', '2026-12-04 04:18:01');
