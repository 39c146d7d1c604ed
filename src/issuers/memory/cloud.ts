/** PLACEHOLDER: replaced by the memory issuer work. */
export class MemoryCloud {}
