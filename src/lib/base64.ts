/** Bytes to base64 with the platform's btoa (pages, workers and Node alike). */
declare function btoa(data: string): string;

export function toBase64(bytes: Uint8Array): string {
  let text = '';
  // In slices: String.fromCharCode with a whole tensor's bytes as arguments overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
