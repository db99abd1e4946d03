-- 0006: the simulated payment gateway's ledger (Shards' own table, not Orleans'; see docs/services.md).
--
-- The default IPaymentGateway of a silo simulates a card processor, and like a real one it must charge at most
-- once per idempotency key (the payment ID, which is the order ID) and refund what it charged. This table is its
-- book: one row per (service, payment ID), written by the first charge (approved or declined); a repeated charge
-- finds the row and answers the same outcome. refunded_at is set once by the first refund; a refund of a payment
-- that was never charged writes a voided row, so a charge arriving late cannot land afterwards.
-- Lives in the main database (ConnectionStrings:Shards). Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS shards_payment_ledger
(
    serviceid      text           NOT NULL,
    payment_id     text           NOT NULL,
    amount         numeric(16, 2) NOT NULL CHECK (amount >= 0),
    token          text           NOT NULL,
    approved       boolean        NOT NULL,
    reference      text           NOT NULL,
    decline_reason text,
    charged_at     timestamptz    NOT NULL DEFAULT now(),
    refunded_at    timestamptz,
    CONSTRAINT shards_payment_ledger_pk PRIMARY KEY (serviceid, payment_id)
);
