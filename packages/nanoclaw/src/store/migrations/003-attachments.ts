/**
 * The files a message carries (files/attachment.ts: name in the group's files/ folder, type, size), as a
 * JSON array; NULL for none.
 */
export default `
ALTER TABLE messages ADD COLUMN attachments TEXT;
`;
