// Mappings shipped with fraudstream for formats teams already produce. Each is an ordinary mapping
// (the same schema a file is checked against), so `docs/ingest.md` can show it and a team can copy
// one as the start of its own.
import { type MappingInput, TARGET_FIELDS } from "./mapping.ts";

/** Contract events as they are: every field from its own name, anything else kept in metadata. */
const identity: MappingInput = {
  version: 1,
  description:
    "contract events (contract/transaction.schema.json) as they are; extra fields kept in metadata",
  fields: Object.fromEntries(TARGET_FIELDS.map((f) => [f, `$.${f}`])),
  keep: "rest",
};

/**
 * The Faker producers of the Python reference pipelines: `location` is where the user lives,
 * `transaction_location` where the payment happened, both as country names; timestamps are naive
 * local times (Python's isoformat() without a zone), read in UTC unless the mapping says otherwise;
 * no currency, so the country's own.
 */
const faker: MappingInput = {
  version: 1,
  description:
    "Faker reference producers: user_id, transaction_id, naive timestamp, location/transaction_location as country names, amount, device, is_fraud",
  zone: "UTC",
  fields: {
    transaction_id: "$.transaction_id",
    timestamp: "$.timestamp",
    user_id: "$.user_id",
    amount: "$.amount",
    currency: { from: "$.currency", currency_of: "country", default: "USD" },
    country: "$.transaction_location",
    home_country: "$.location",
    device: "$.device",
    is_fraud: "$.is_fraud",
  },
  keep: "rest",
};

/** The Faker producers with a merchant: `merchant`, `merchant_category` and `country` (a name or code). */
const fakerMerchant: MappingInput = {
  version: 1,
  description:
    "Faker reference producers with merchants: user_id, transaction_id, merchant, merchant_category, country, amount, naive timestamp, is_fraud",
  zone: "UTC",
  fields: {
    transaction_id: "$.transaction_id",
    timestamp: "$.timestamp",
    user_id: "$.user_id",
    amount: "$.amount",
    currency: { from: "$.currency", currency_of: "country", default: "USD" },
    merchant_name: "$.merchant",
    merchant_id: { hash: ["$.merchant"], prefix: "m-" },
    merchant_category: "$.merchant_category",
    country: "$.country",
    device: "$.device",
    is_fraud: "$.is_fraud",
  },
  keep: "rest",
};

// ISO 20022 pacs.008 (FI to FI customer credit transfer) in its JSON form: the message, with or
// without a Document wrapper, one transaction per record (CdtTrfTxInf as an object or a one-element
// array). Debtor = the user, debtor account = the card, creditor = the merchant.
const ROOTS = ["$.FIToFICstmrCdtTrf", "$.Document.FIToFICstmrCdtTrf"];
const TX = ROOTS.flatMap((r) => [`${r}.CdtTrfTxInf[0]`, `${r}.CdtTrfTxInf`]);
const inTx = (...tails: string[]): string[] => tails.flatMap((t) => TX.map((tx) => `${tx}.${t}`));
const inHeader = (tail: string): string[] => ROOTS.map((r) => `${r}.GrpHdr.${tail}`);

const pacs008: MappingInput = {
  version: 1,
  description:
    "ISO 20022 pacs.008 customer credit transfers (JSON): debtor = user, debtor account = card, creditor = merchant",
  fields: {
    transaction_id: { from: inTx("PmtId.UETR", "PmtId.TxId", "PmtId.EndToEndId") },
    timestamp: { from: [...inTx("AccptncDtTm"), ...inHeader("CreDtTm")] },
    user_id: {
      from: inTx("Dbtr.Id.PrvtId.Othr.Id", "Dbtr.Id.OrgId.Othr.Id", "Dbtr.Id.OrgId.AnyBIC", "Dbtr.Nm"),
    },
    card_id: { from: inTx("DbtrAcct.Id.IBAN", "DbtrAcct.Id.Othr.Id") },
    amount: {
      from: inTx(
        "IntrBkSttlmAmt.Amt",
        "IntrBkSttlmAmt.Amt.Amt",
        "IntrBkSttlmAmt.value",
        "InstdAmt.Amt",
        "InstdAmt.Amt.Amt",
      ),
    },
    currency: {
      from: inTx("IntrBkSttlmAmt.Ccy", "IntrBkSttlmAmt.Amt.Ccy", "InstdAmt.Ccy", "InstdAmt.Amt.Ccy"),
      currency_of: "home_country",
    },
    merchant_id: {
      from: inTx(
        "Cdtr.Id.OrgId.Othr.Id",
        "Cdtr.Id.OrgId.AnyBIC",
        "Cdtr.Id.PrvtId.Othr.Id",
        "CdtrAcct.Id.IBAN",
      ),
    },
    merchant_name: { from: inTx("Cdtr.Nm") },
    channel: { const: "transfer" },
    country: { from: inTx("Cdtr.PstlAdr.Ctry", "CdtrAgt.FinInstnId.PstlAdr.Ctry") },
    home_country: { from: inTx("Dbtr.PstlAdr.Ctry", "DbtrAgt.FinInstnId.PstlAdr.Ctry") },
    city: { from: inTx("Cdtr.PstlAdr.TwnNm") },
  },
  keep: {
    message_id: inHeader("MsgId"),
    remittance: inTx("RmtInf.Ustrd"),
    purpose: inTx("Purp.Cd"),
    debtor_agent: inTx("DbtrAgt.FinInstnId.BICFI"),
    creditor_agent: inTx("CdtrAgt.FinInstnId.BICFI"),
    charge_bearer: inTx("ChrgBr"),
  },
};

export const PRESETS = { identity, faker, "faker-merchant": fakerMerchant, pacs008 } as const;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
