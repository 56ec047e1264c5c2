// Type declarations for the parts of `struct-fu` the framing layer (message.ts) uses: fixed-layout
// structs of little-endian integer fields.

declare module 'struct-fu' {
  interface Offset {
    bytes: number;
    bits?: number;
  }
  interface Field<T> {
    readonly size: number;
    pack(value: T, buf?: Buffer, off?: Offset): Buffer;
    unpack(buf: Buffer, off?: Offset): T;
  }
  interface StructFu {
    struct<T>(fields: Field<unknown>[]): Field<T>;
    uint8(name: string): Field<number>;
    uint16le(name: string): Field<number>;
    uint32le(name: string): Field<number>;
    int32le(name: string): Field<number>;
  }
  const _: StructFu;
  export default _;
}
