-- The schema release 17e0589 made: SQLModel.metadata.create_all() of flows/store/*.py and bot/store.py at
-- that commit (sqlmodel 0.0.50, SQLAlchemy 2.1.9), compiled for postgresql with create_mock_engine. Databases from
-- before commit 56aca61 lack sb_user.must_change_password; the tests drop it to make one.

CREATE TYPE approvalstatus AS ENUM ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'SUPERSEDED', 'EXECUTED', 'FAILED');

CREATE TYPE runstatus AS ENUM ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'DEAD_LETTERED');

CREATE TABLE audit_record (
	seq SERIAL NOT NULL,
	ts VARCHAR NOT NULL,
	actor VARCHAR NOT NULL,
	event VARCHAR NOT NULL,
	subject VARCHAR,
	data VARCHAR NOT NULL,
	prev_hash VARCHAR NOT NULL,
	hash VARCHAR NOT NULL,
	PRIMARY KEY (seq)
);

CREATE INDEX ix_audit_record_subject ON audit_record (subject);

CREATE INDEX ix_audit_record_actor ON audit_record (actor);

CREATE INDEX ix_audit_record_event ON audit_record (event);

CREATE INDEX ix_audit_record_ts ON audit_record (ts);

CREATE TABLE audit_head (
	id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	hash VARCHAR NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE approval_request (
	id VARCHAR NOT NULL,
	tool VARCHAR NOT NULL,
	args JSON,
	binding VARCHAR NOT NULL,
	requester VARCHAR NOT NULL,
	thread_id VARCHAR,
	reasons JSON,
	confidence FLOAT,
	risk VARCHAR NOT NULL,
	preview JSON,
	status approvalstatus NOT NULL,
	quorum INTEGER NOT NULL,
	approvals INTEGER NOT NULL,
	parent_id VARCHAR,
	edited_by VARCHAR,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	reminded_at TIMESTAMP WITH TIME ZONE,
	decided_at TIMESTAMP WITH TIME ZONE,
	decided_by VARCHAR,
	decision_reason VARCHAR,
	run_id INTEGER,
	policy_version VARCHAR,
	PRIMARY KEY (id)
);

CREATE INDEX ix_approval_request_parent_id ON approval_request (parent_id);

CREATE INDEX ix_approval_request_requester ON approval_request (requester);

CREATE INDEX ix_approval_request_thread_id ON approval_request (thread_id);

CREATE INDEX ix_approval_request_tool ON approval_request (tool);

CREATE INDEX ix_approval_request_expires_at ON approval_request (expires_at);

CREATE INDEX ix_approval_request_status ON approval_request (status);

CREATE TABLE approval_vote (
	id SERIAL NOT NULL,
	approval_id VARCHAR NOT NULL,
	approver VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_vote_approval_approver UNIQUE (approval_id, approver)
);

CREATE INDEX ix_approval_vote_approval_id ON approval_vote (approval_id);

CREATE TABLE thread_message (
	id SERIAL NOT NULL,
	thread_id VARCHAR NOT NULL,
	owner VARCHAR NOT NULL,
	role VARCHAR NOT NULL,
	text VARCHAR NOT NULL,
	payload JSON,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_thread_message_created_at ON thread_message (created_at);

CREATE INDEX ix_thread_message_thread_id ON thread_message (thread_id);

CREATE INDEX ix_thread_message_owner ON thread_message (owner);

CREATE TABLE customer (
	name VARCHAR NOT NULL,
	email VARCHAR NOT NULL,
	region VARCHAR NOT NULL,
	country VARCHAR,
	credit_limit FLOAT,
	id SERIAL NOT NULL,
	tier VARCHAR,
	credit_hold BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_customer_email ON customer (email);

CREATE INDEX ix_customer_region ON customer (region);

CREATE INDEX ix_customer_name ON customer (name);

CREATE TABLE product (
	name VARCHAR NOT NULL,
	category VARCHAR,
	unit_price FLOAT NOT NULL,
	price_tier VARCHAR NOT NULL,
	sku VARCHAR NOT NULL,
	PRIMARY KEY (sku)
);

CREATE TABLE "order" (
	customer_id INTEGER NOT NULL,
	sku VARCHAR NOT NULL,
	quantity INTEGER NOT NULL,
	unit_price FLOAT NOT NULL,
	total FLOAT,
	region VARCHAR NOT NULL,
	order_date DATE NOT NULL,
	status VARCHAR NOT NULL,
	id SERIAL NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_order_region ON "order" (region);

CREATE INDEX ix_order_customer_id ON "order" (customer_id);

CREATE INDEX ix_order_order_date ON "order" (order_date);

CREATE INDEX ix_order_sku ON "order" (sku);

CREATE TABLE ingestbatch (
	id SERIAL NOT NULL,
	dataset VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	checksum VARCHAR NOT NULL,
	mode VARCHAR NOT NULL,
	rows_loaded INTEGER NOT NULL,
	rows_quarantined INTEGER NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_ingest_dataset_checksum UNIQUE (dataset, checksum)
);

CREATE TABLE quarantine (
	id SERIAL NOT NULL,
	batch_id INTEGER,
	dataset VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	line INTEGER NOT NULL,
	field_name VARCHAR,
	reason VARCHAR NOT NULL,
	raw JSON,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_quarantine_batch_id ON quarantine (batch_id);

CREATE TABLE artifact (
	id SERIAL NOT NULL,
	name VARCHAR NOT NULL,
	path VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	format VARCHAR NOT NULL,
	dataset VARCHAR,
	sha256 VARCHAR NOT NULL,
	size INTEGER NOT NULL,
	rows INTEGER,
	manifest_path VARCHAR,
	run_id INTEGER,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_artifact_created_at ON artifact (created_at);

CREATE INDEX ix_artifact_name ON artifact (name);

CREATE TABLE delivery (
	id SERIAL NOT NULL,
	artifact_id INTEGER NOT NULL,
	destination VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	attempts INTEGER NOT NULL,
	remote_path VARCHAR,
	sha256 VARCHAR,
	error VARCHAR,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	delivered_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	CONSTRAINT uq_delivery_artifact_destination UNIQUE (artifact_id, destination)
);

CREATE INDEX ix_delivery_artifact_id ON delivery (artifact_id);

CREATE TABLE notification (
	id SERIAL NOT NULL,
	idempotency_key VARCHAR NOT NULL,
	channel VARCHAR NOT NULL,
	recipient VARCHAR NOT NULL,
	message VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	attempts INTEGER NOT NULL,
	error VARCHAR,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	sent_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	UNIQUE (idempotency_key)
);

CREATE TABLE schedule (
	id SERIAL NOT NULL,
	flow VARCHAR NOT NULL,
	cron VARCHAR NOT NULL,
	paused BOOLEAN NOT NULL,
	created_by VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	last_run_at TIMESTAMP WITH TIME ZONE,
	next_run_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	CONSTRAINT uq_schedule_flow_cron UNIQUE (flow, cron)
);

CREATE INDEX ix_schedule_flow ON schedule (flow);

CREATE TABLE alertstate (
	key VARCHAR NOT NULL,
	last_sent_at TIMESTAMP WITH TIME ZONE NOT NULL,
	suppressed INTEGER NOT NULL,
	PRIMARY KEY (key)
);

CREATE TABLE run (
	id SERIAL NOT NULL,
	name VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	status runstatus NOT NULL,
	attempt INTEGER NOT NULL,
	max_attempts INTEGER NOT NULL,
	parent_id INTEGER,
	pipeline_run_id INTEGER,
	idempotency_key VARCHAR,
	actor VARCHAR NOT NULL,
	inputs JSON,
	output JSON,
	versions JSON,
	error VARCHAR,
	error_code VARCHAR,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	started_at TIMESTAMP WITH TIME ZONE,
	finished_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	UNIQUE (idempotency_key)
);

CREATE INDEX ix_run_name ON run (name);

CREATE INDEX ix_run_status ON run (status);

CREATE INDEX ix_run_created_at ON run (created_at);

CREATE INDEX ix_run_pipeline_run_id ON run (pipeline_run_id);

CREATE INDEX ix_run_parent_id ON run (parent_id);

CREATE TABLE sb_user (
	id SERIAL NOT NULL,
	name VARCHAR NOT NULL,
	role VARCHAR NOT NULL,
	password_hash VARCHAR,
	token_hash VARCHAR,
	telegram_user_id INTEGER,
	active BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	must_change_password BOOLEAN DEFAULT false NOT NULL,
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_sb_user_token_hash ON sb_user (token_hash);

CREATE UNIQUE INDEX ix_sb_user_telegram_user_id ON sb_user (telegram_user_id);

CREATE UNIQUE INDEX ix_sb_user_name ON sb_user (name);

CREATE TABLE bot_processed_update (
	bot_id INTEGER NOT NULL,
	update_id INTEGER NOT NULL,
	kind VARCHAR NOT NULL,
	chat_id INTEGER,
	telegram_user_id INTEGER,
	claimed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (bot_id, update_id)
);

CREATE INDEX ix_bot_processed_update_claimed_at ON bot_processed_update (claimed_at);

CREATE TABLE bot_callback_token (
	token VARCHAR(64) NOT NULL,
	kind VARCHAR NOT NULL,
	action VARCHAR NOT NULL,
	chat_id INTEGER NOT NULL,
	telegram_user_id INTEGER,
	approval_id VARCHAR,
	binding VARCHAR,
	thread_id VARCHAR,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	used_at TIMESTAMP WITH TIME ZONE,
	used_by INTEGER,
	PRIMARY KEY (token)
);

CREATE INDEX ix_bot_callback_token_approval_id ON bot_callback_token (approval_id);

CREATE INDEX ix_bot_callback_token_thread_id ON bot_callback_token (thread_id);

CREATE INDEX ix_bot_callback_token_expires_at ON bot_callback_token (expires_at);

CREATE TABLE bot_outbox (
	id SERIAL NOT NULL,
	key VARCHAR(200) NOT NULL,
	chat_id INTEGER NOT NULL,
	method VARCHAR NOT NULL,
	payload JSON,
	status VARCHAR NOT NULL,
	attempts INTEGER NOT NULL,
	message_id INTEGER,
	error VARCHAR,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	sent_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id)
);

CREATE INDEX ix_bot_outbox_status ON bot_outbox (status);

CREATE UNIQUE INDEX ix_bot_outbox_key ON bot_outbox (key);

CREATE TABLE bot_approval_message (
	id SERIAL NOT NULL,
	approval_id VARCHAR NOT NULL,
	outbox_key VARCHAR(200) NOT NULL,
	chat_id INTEGER NOT NULL,
	telegram_user_id INTEGER,
	text VARCHAR NOT NULL,
	closed BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (outbox_key)
);

CREATE INDEX ix_bot_approval_message_approval_id ON bot_approval_message (approval_id);

CREATE INDEX ix_bot_approval_message_closed ON bot_approval_message (closed);

CREATE TABLE bot_reason_prompt (
	chat_id INTEGER NOT NULL,
	telegram_user_id INTEGER NOT NULL,
	approval_id VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (chat_id, telegram_user_id)
);
