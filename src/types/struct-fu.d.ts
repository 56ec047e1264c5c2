// Types for the parts of struct-fu (a CommonJS package without its own typings) that src/netlink/core/struct.ts uses.

declare module 'struct-fu' {
  interface Offset {
    bytes: number;
    bits?: number;
  }
  interface Field {
    name: string | null;
    size: number;
    offset?: number | Offset;
    fields?: Record<string, Field>;
    valueFromBytes(buf: Buffer, off?: Offset): unknown;
    bytesFromValue(value: unknown, buf?: Buffer, off?: Offset): Buffer;
  }
  type FieldType = (name?: string | number, count?: number) => Field;
  const fu: {
    struct(name: string, fields: readonly unknown[], count?: number): Field;
    padTo(offset: number): unknown;
    byte(name: string | number, size?: number, count?: number): Field;
    uint8: FieldType;
    uint16: FieldType;
    uint32: FieldType;
    uint16le: FieldType;
    uint32le: FieldType;
    int8: FieldType;
    int16: FieldType;
    int32: FieldType;
    int16le: FieldType;
    int32le: FieldType;
    derive(orig: Field, pack: (value: never) => unknown, unpack: (raw: never) => unknown): FieldType;
  };
  export default fu;
}
