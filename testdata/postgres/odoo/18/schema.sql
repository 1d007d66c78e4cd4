-- Odoo 18: as Odoo 17, except that accounts are shared by companies (`company_ids`, a many2many
-- table) and their codes are no longer stored in `code`: `code_store` is jsonb keyed by company
-- id as text, e.g. {"1": "102.01.01"}.
CREATE TABLE res_currency (
    id             serial PRIMARY KEY,
    name           varchar NOT NULL,
    symbol         varchar NOT NULL,
    rounding       numeric,
    decimal_places integer,
    active         boolean
);
CREATE TABLE res_partner (
    id            serial PRIMARY KEY,
    name          varchar,
    complete_name varchar,
    parent_id     integer REFERENCES res_partner (id) ON DELETE SET NULL,
    company_id    integer,
    is_company    boolean,
    vat           varchar,
    active        boolean
);
CREATE TABLE res_company (
    id          serial PRIMARY KEY,
    name        varchar NOT NULL,
    partner_id  integer NOT NULL REFERENCES res_partner (id) ON DELETE RESTRICT,
    currency_id integer NOT NULL REFERENCES res_currency (id) ON DELETE RESTRICT,
    parent_id   integer REFERENCES res_company (id) ON DELETE RESTRICT
);
CREATE TABLE account_account (
    id           serial PRIMARY KEY,
    name         jsonb NOT NULL,
    code_store   jsonb,
    account_type varchar NOT NULL,
    currency_id  integer REFERENCES res_currency (id) ON DELETE SET NULL,
    reconcile    boolean,
    deprecated   boolean
);
CREATE TABLE account_account_res_company_rel (
    account_account_id integer NOT NULL REFERENCES account_account (id) ON DELETE CASCADE,
    res_company_id     integer NOT NULL REFERENCES res_company (id) ON DELETE CASCADE,
    PRIMARY KEY (account_account_id, res_company_id)
);
CREATE TABLE account_journal (
    id                 serial PRIMARY KEY,
    name               jsonb NOT NULL,
    code               varchar(5) NOT NULL,
    type               varchar NOT NULL,
    company_id         integer NOT NULL REFERENCES res_company (id) ON DELETE RESTRICT,
    currency_id        integer REFERENCES res_currency (id) ON DELETE SET NULL,
    default_account_id integer REFERENCES account_account (id) ON DELETE RESTRICT,
    active             boolean,
    sequence           integer
);
CREATE TABLE account_move (
    id                serial PRIMARY KEY,
    name              varchar,
    ref               varchar,
    date              date NOT NULL,
    state             varchar NOT NULL,
    move_type         varchar NOT NULL,
    journal_id        integer NOT NULL REFERENCES account_journal (id) ON DELETE RESTRICT,
    company_id        integer NOT NULL REFERENCES res_company (id) ON DELETE RESTRICT,
    currency_id       integer NOT NULL REFERENCES res_currency (id) ON DELETE RESTRICT,
    partner_id        integer REFERENCES res_partner (id) ON DELETE RESTRICT,
    payment_reference varchar
);
CREATE TABLE account_move_line (
    id                       serial PRIMARY KEY,
    move_id                  integer NOT NULL REFERENCES account_move (id) ON DELETE CASCADE,
    move_name                varchar,
    date                     date,
    ref                      varchar,
    parent_state             varchar,
    journal_id               integer REFERENCES account_journal (id) ON DELETE SET NULL,
    company_id               integer REFERENCES res_company (id) ON DELETE SET NULL,
    company_currency_id      integer REFERENCES res_currency (id) ON DELETE SET NULL,
    account_id               integer REFERENCES account_account (id) ON DELETE RESTRICT,
    partner_id               integer REFERENCES res_partner (id) ON DELETE RESTRICT,
    currency_id              integer NOT NULL REFERENCES res_currency (id) ON DELETE RESTRICT,
    name                     varchar,
    display_type             varchar NOT NULL,
    debit                    numeric,
    credit                   numeric,
    balance                  numeric,
    amount_currency          numeric,
    amount_residual          numeric,
    amount_residual_currency numeric,
    reconciled               boolean,
    matching_number          varchar,
    sequence                 integer
);
CREATE INDEX account_move_line_date_index ON account_move_line (date);
CREATE INDEX account_move_line_account_id_index ON account_move_line (account_id);
