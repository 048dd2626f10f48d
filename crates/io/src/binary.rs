//! decide's compact binary model, extension `.decide`: the compiled arrays of a
//! [`TabularMdp`] as they are in memory, so that loading is a few bulk reads and no parsing.
//!
//! Written by `decide convert IN OUT.decide` (and `decide generate ... OUT.decide`), read by
//! every command. A file is a 128-byte header followed by sections, all little-endian, each
//! section starting at a multiple of 8 bytes (zero padding):
//!
//! | offset | size | header field |
//! |---|---|---|
//! | 0 | 8 | magic `DECIDE\x1a\0` |
//! | 8 | 4 | version (1) |
//! | 12 | 4 | flags: 1 outcome rewards, 2 discount, 4 sense, 8 terminal values, 16 names |
//! | 16 | 8 × 6 | states, actions, pairs, transitions, terminal states, bytes of names |
//! | 64 | 8 | discount (f64; 0 when absent) |
//! | 72 | 4 | sense (0 absent, 1 maximize, 2 minimize) |
//! | 76 | 4 | zero |
//! | 80 | 8 | probability-sum tolerance the model meets (f64) |
//! | 88 | 8 | file length in bytes |
//! | 96 | 8 | checksum of everything after the header (XXH64, seed 0) |
//! | 104 | 16 | zero |
//! | 120 | 8 | checksum of header bytes 0..120 (XXH64, seed 0) |
//!
//! | section | type × count |
//! |---|---|
//! | pair range of each state | u64 × (states + 1) |
//! | action of each pair | u32 × pairs |
//! | outcome range of each pair | u64 × (pairs + 1) |
//! | expected reward r(s,a) of each pair | f64 × pairs |
//! | next state of each outcome | u32 × transitions |
//! | probability of each outcome | f64 × transitions |
//! | reward of each outcome (flag 1) | f64 × transitions |
//! | terminal states, increasing | u32 × terminal |
//! | their values (flag 8) | f64 × terminal |
//! | names (flag 16) | UTF-8 JSON `{"states": [...] or null, "actions": [...] or null}` |
//!
//! A file without per-outcome rewards (flag 1 clear) holds a model with rewards per pair,
//! which is all solving needs: 12 instead of 20 bytes per transition, in the file and in
//! memory. `decide convert` keeps them; `decide generate --rewards expected` leaves them out.
//!
//! **Nothing in the header is trusted**: its checksum is checked, then the file length it
//! implies is computed (with overflow checks) and compared with the real length *before*
//! anything is allocated, so a header claiming 10^18 states fails at once; the payload
//! checksum is checked as the sections stream in; and the arrays then go through
//! [`TabularMdp::from_raw_parts`], which checks every invariant the row builder guarantees.
//! Errors name the file and say what is wrong; a truncated or corrupted file is an invalid
//! model (exit 1), never a panic.
//!
//! **With `ReadOptions::map_file`, loading maps rather than copies** the big sections of a
//! file on disk (those of 2 MiB and more, on a little-endian 64-bit machine, where the stored
//! bytes are the machine's own; `decide solve` asks for it and watches the file, every other
//! reader copies):
//! each becomes a private, copy-on-write map of the file ([`map_section`]), so the arrays are
//! the page cache's pages — no copy, and no fresh memory to fault in, which on a virtual
//! machine that hands freed memory back to its host costs more than the copy (measured: 1 s
//! of system time for the 10^6-state model, against 0.1 s). The checksum and the validation
//! still read every byte. Standard input and small sections are read into memory.

use crate::{Format, LoadedModel, ReadError, ReadErrorKind, ReadOptions, WriteError};
use decide_core::ProbabilityArray;
use decide_core::large_array::LargeArray;
use decide_core::model::{RawParts, RawPartsError, round_probability};
use decide_core::{BuildSummary, Sense, StateId, TabularMdp, ValidationOptions};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

/// The first 8 bytes of every `.decide` file.
pub const MAGIC: [u8; 8] = *b"DECIDE\x1a\0";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Bytes of the header.
pub const HEADER_BYTES: usize = 128;
/// Where the header keeps the checksum of everything after it.
const PAYLOAD_CHECKSUM_AT: usize = 96;
/// Where the header keeps its own checksum, of the bytes before it.
const HEADER_CHECKSUM_AT: usize = 120;

const FLAG_OUTCOME_REWARDS: u32 = 1;
const FLAG_DISCOUNT: u32 = 2;
const FLAG_SENSE: u32 = 4;
const FLAG_TERMINAL_VALUES: u32 = 8;
const FLAG_NAMES: u32 = 16;
const KNOWN_FLAGS: u32 = 31;

/// Bytes converted per bulk read or write.
const CHUNK_BYTES: usize = 1 << 18;

/// Sections at least this long are mapped rather than read (see the module docs); below it
/// a map costs more than the copy it saves.
const MAP_AT_LEAST: usize = 2 << 20;

/// A private (copy-on-write) map of `len` bytes of `file` from byte `offset`: reads see the
/// page cache's pages, a write (no solver writes a model's arrays) copies the page.
///
/// The one `unsafe` in decide. What the compiler cannot check is that nobody changes the
/// file while it is mapped: a write through another descriptor would show through a
/// private map, and a truncation would make reading the lost pages raise `SIGBUS`. decide's
/// own writers never change a file in place (they write a new file and rename it over the
/// old one, which leaves the mapped file untouched), so only another program editing the
/// model file in place during a run can break this — the same contract as ripgrep's maps.
#[allow(unsafe_code)]
fn map_section(file: &File, offset: u64, len: usize) -> io::Result<memmap2::MmapMut> {
    // SAFETY: see above; the length was checked against the file's before (`read_stream`).
    unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(len)
            .map_copy(file)
    }
}

/// What the header says.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Header {
    flags: u32,
    n_states: u64,
    n_actions: u64,
    n_pairs: u64,
    n_transitions: u64,
    n_terminal: u64,
    names_bytes: u64,
    discount: f64,
    sense: u32,
    tolerance: f64,
    file_length: u64,
    payload_checksum: u64,
}

impl Header {
    fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Byte sizes of the sections in file order (before padding), or `None` on overflow.
    fn section_sizes(&self) -> Option<[u64; 10]> {
        let per = |count: u64, bytes: u64| count.checked_mul(bytes);
        let optional = |flag: u32, size: Option<u64>| {
            if self.has(flag) { size } else { Some(0) }
        };
        Some([
            per(self.n_states.checked_add(1)?, 8)?,
            per(self.n_pairs, 4)?,
            per(self.n_pairs.checked_add(1)?, 8)?,
            per(self.n_pairs, 8)?,
            per(self.n_transitions, 4)?,
            per(self.n_transitions, 8)?,
            optional(FLAG_OUTCOME_REWARDS, per(self.n_transitions, 8))?,
            per(self.n_terminal, 4)?,
            optional(FLAG_TERMINAL_VALUES, per(self.n_terminal, 8))?,
            self.names_bytes,
        ])
    }

    /// Where section `index` (in [`Self::section_sizes`] order) starts, or `None` on overflow.
    fn section_start(&self, index: usize) -> Option<u64> {
        self.section_sizes()?[..index]
            .iter()
            .try_fold(HEADER_BYTES as u64, |at, &size| {
                at.checked_add(padded(size)?)
            })
    }

    /// The file length the counts imply, or `None` on overflow.
    fn implied_length(&self) -> Option<u64> {
        self.section_sizes()?
            .iter()
            .try_fold(HEADER_BYTES as u64, |at, &size| {
                at.checked_add(padded(size)?)
            })
    }

    fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut h = [0u8; HEADER_BYTES];
        h[0..8].copy_from_slice(&MAGIC);
        h[8..12].copy_from_slice(&VERSION.to_le_bytes());
        h[12..16].copy_from_slice(&self.flags.to_le_bytes());
        let words = [
            self.n_states,
            self.n_actions,
            self.n_pairs,
            self.n_transitions,
            self.n_terminal,
            self.names_bytes,
        ];
        for (i, w) in words.iter().enumerate() {
            h[16 + 8 * i..24 + 8 * i].copy_from_slice(&w.to_le_bytes());
        }
        h[64..72].copy_from_slice(&self.discount.to_le_bytes());
        h[72..76].copy_from_slice(&self.sense.to_le_bytes());
        h[80..88].copy_from_slice(&self.tolerance.to_le_bytes());
        h[88..96].copy_from_slice(&self.file_length.to_le_bytes());
        h[PAYLOAD_CHECKSUM_AT..PAYLOAD_CHECKSUM_AT + 8]
            .copy_from_slice(&self.payload_checksum.to_le_bytes());
        reseal_header(&mut h);
        h
    }

    /// Decodes and checks what can be checked from the header alone.
    fn decode(h: &[u8; HEADER_BYTES]) -> Result<Header, String> {
        if h[0..8] != MAGIC {
            return Err(
                "not a decide binary model (the file does not start with the .decide magic bytes)"
                    .into(),
            );
        }
        let u32_at = |i: usize| u32::from_le_bytes(h[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().expect("8 bytes"));
        if u64_at(HEADER_CHECKSUM_AT) != xxh64(&h[..HEADER_CHECKSUM_AT]) {
            return Err("the header is corrupted (its checksum does not match)".into());
        }
        let version = u32_at(8);
        if version != VERSION {
            return Err(format!(
                "format version {version} is not supported (this decide reads version {VERSION})"
            ));
        }
        let header = Header {
            flags: u32_at(12),
            n_states: u64_at(16),
            n_actions: u64_at(24),
            n_pairs: u64_at(32),
            n_transitions: u64_at(40),
            n_terminal: u64_at(48),
            names_bytes: u64_at(56),
            discount: f64::from_bits(u64_at(64)),
            sense: u32_at(72),
            tolerance: f64::from_bits(u64_at(80)),
            file_length: u64_at(88),
            payload_checksum: u64_at(PAYLOAD_CHECKSUM_AT),
        };
        if header.flags & !KNOWN_FLAGS != 0 {
            return Err(format!("unknown flags {:#x} in the header", header.flags));
        }
        if header.sense > 2 {
            return Err(format!("unknown sense code {} in the header", header.sense));
        }
        if !(header.tolerance.is_finite() && header.tolerance >= 0.0) {
            return Err(format!(
                "probability tolerance {} in the header is not a non-negative number",
                header.tolerance
            ));
        }
        // The other readers refuse such a discount; this one must not hand it on.
        if header.has(FLAG_DISCOUNT) && !(0.0..=1.0).contains(&header.discount) {
            return Err(format!(
                "discount {} in the header is outside [0, 1]",
                header.discount
            ));
        }
        if header.n_terminal > header.n_states {
            return Err(format!(
                "the header claims {} terminal states among {} states",
                header.n_terminal, header.n_states
            ));
        }
        match header.implied_length() {
            Some(length) if length == header.file_length => Ok(header),
            Some(length) => Err(format!(
                "the header is inconsistent: its counts make {length} bytes, its length field says {}",
                header.file_length
            )),
            None => Err("the header claims sizes beyond any file".into()),
        }
    }
}

/// `size` rounded up to a multiple of 8.
fn padded(size: u64) -> Option<u64> {
    size.checked_add(7).map(|s| s & !7)
}

/// Reads a `.decide` file. The file length is checked against the header before anything
/// is allocated; `options.probability_tolerance` overrides the tolerance stored in the file.
pub fn read(path: &Path, options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    let file = File::open(path).map_err(|e| io_at(path, e))?;
    read_open(path, &file, options)
}

/// [`read`], and the same open file's exact outcomes, for a model read with
/// `options.f32_probabilities` (see `decide_solve::mixed_precision`): reading the file once
/// more by its name could find another file renamed over it meanwhile.
pub fn read_with_exact_outcomes(
    path: &Path,
    options: &ReadOptions,
) -> Result<(LoadedModel, ExactOutcomes), ReadError> {
    let file = File::open(path).map_err(|e| io_at(path, e))?;
    if !file.metadata().map_err(|e| io_at(path, e))?.is_file() {
        return Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Usage(
                "--probabilities f32 reads the exact probabilities again for the certificate: it needs a regular .decide file, not a pipe or a device".into(),
            ),
        ));
    }
    let model = read_open(path, &file, options)?;
    let outcomes = ExactOutcomes::from_file(path, file)?;
    Ok((model, outcomes))
}

fn read_open(path: &Path, file: &File, options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    let metadata = file.metadata().map_err(|e| io_at(path, e))?;
    if !metadata.is_file() {
        // A pipe or a device named on the command line: its length says nothing, so it is
        // read as a stream (like standard input), and never mapped.
        return read_stream(path, file, None, None, options);
    }
    let mappable = options.map_file.then_some(file);
    read_stream(path, file, Some(metadata.len()), mappable, options)
}

/// Reads a `.decide` model from a stream of unknown length (standard input): arrays grow only
/// as their bytes arrive, so a lying header cannot make it allocate more than was sent.
pub fn read_from(
    path_for_messages: &Path,
    input: impl Read,
    options: &ReadOptions,
) -> Result<LoadedModel, ReadError> {
    read_stream(path_for_messages, input, None, None, options)
}

/// `mappable`: the file `input` reads, when its big sections may be mapped instead of read
/// (then `input` must read that file's descriptor unbuffered, so that seeking one moves both).
fn read_stream(
    path: &Path,
    mut input: impl Read,
    length: Option<u64>,
    mappable: Option<&File>,
    options: &ReadOptions,
) -> Result<LoadedModel, ReadError> {
    let invalid = |message: String| ReadError::new(path, None, ReadErrorKind::Format(message));
    if length.is_some_and(|l| l < HEADER_BYTES as u64) {
        let mut start = Vec::new();
        let _ = input.by_ref().take(8).read_to_end(&mut start);
        return Err(invalid(if MAGIC.starts_with(&start) && !start.is_empty() {
            format!(
                "truncated: {} bytes, shorter than the {HEADER_BYTES}-byte header",
                length.unwrap_or(0)
            )
        } else {
            "not a decide binary model (too short, and not starting with the .decide magic bytes)"
                .into()
        }));
    }
    let mut raw_header = [0u8; HEADER_BYTES];
    read_exact_or_truncated(&mut input, &mut raw_header, 0).map_err(|e| e.at(path))?;
    let header = Header::decode(&raw_header).map_err(invalid)?;
    if let Some(length) = length {
        if length != header.file_length {
            return Err(invalid(format!(
                "truncated or extended: the file has {length} bytes, its header says {}",
                header.file_length
            )));
        }
        // Refuse what cannot fit before allocating it (the arrays take about the file size;
        // with f32 probabilities, 4 bytes less per transition and no outcome rewards).
        let needed = if options.f32_probabilities {
            let outcome_rewards = if header.has(FLAG_OUTCOME_REWARDS) {
                8
            } else {
                0
            };
            length.saturating_sub(header.n_transitions.saturating_mul(4 + outcome_rewards))
        } else {
            length
        };
        if let Some(available) = crate::available_memory() {
            if needed > available {
                return Err(invalid(format!(
                    "the model needs about {:.1} GiB of memory, more than the {:.1} GiB available",
                    needed as f64 / f64::from(1u32 << 30),
                    available as f64 / f64::from(1u32 << 30)
                )));
            }
        }
    }
    let to_usize = |count: u64| {
        usize::try_from(count).map_err(|_| invalid(format!("{count} elements do not fit here")))
    };
    let n_states = to_usize(header.n_states)?;
    let n_pairs = to_usize(header.n_pairs)?;
    let n_transitions = to_usize(header.n_transitions)?;
    let n_terminal = to_usize(header.n_terminal)?;
    let names_bytes = to_usize(header.names_bytes)?;

    let mut sections = Sections {
        input,
        hasher: Xxh64::new(0),
        buffer: vec![0u8; CHUNK_BYTES],
        offset: HEADER_BYTES as u64,
        preallocate: length.is_some(),
        mappable,
    };
    let sections_error = |e: SectionError| e.at(path);
    let state_pairs = sections
        .large_usizes(n_states + 1)
        .map_err(sections_error)?;
    let pair_action = sections.large_u32s(n_pairs).map_err(sections_error)?;
    let pair_outcomes = sections.large_usizes(n_pairs + 1).map_err(sections_error)?;
    let pair_reward = sections.large_f64s(n_pairs).map_err(sections_error)?;
    let next = sections.large_u32s(n_transitions).map_err(sections_error)?;
    let (probability, reward) = if options.f32_probabilities {
        // Rounded probabilities, and no outcome rewards (solving needs r(s,a) only); both
        // sections are still read through the checksum.
        let probability = sections
            .f64s_as_f32(n_transitions)
            .map_err(sections_error)?;
        if header.has(FLAG_OUTCOME_REWARDS) {
            sections.skip(n_transitions * 8).map_err(sections_error)?;
        }
        (ProbabilityArray::F32(probability), None)
    } else {
        let probability = sections.large_f64s(n_transitions).map_err(sections_error)?;
        let reward = if header.has(FLAG_OUTCOME_REWARDS) {
            Some(sections.large_f64s(n_transitions).map_err(sections_error)?)
        } else {
            None
        };
        (ProbabilityArray::F64(probability), reward)
    };
    let terminal = sections.u32s(n_terminal).map_err(sections_error)?;
    let terminal_values = if header.has(FLAG_TERMINAL_VALUES) {
        sections.f64s(n_terminal).map_err(sections_error)?
    } else {
        Vec::new()
    };
    let names = sections.bytes(names_bytes).map_err(sections_error)?;
    let checksum = sections.hasher.finish();
    if checksum != header.payload_checksum {
        return Err(invalid(format!(
            "corrupted: the checksum of the data is {checksum:#018x}, the header says {:#018x}",
            header.payload_checksum
        )));
    }
    let mut extra = [0u8; 1];
    if length.is_none()
        && sections
            .input
            .read(&mut extra)
            .map_err(|e| io_at(path, e))?
            != 0
    {
        return Err(invalid(format!(
            "more bytes follow the {} the header announces",
            header.file_length
        )));
    }
    let (state_names, action_names) = if header.has(FLAG_NAMES) {
        parse_names(&names).map_err(|e| invalid(format!("names section: {e}")))?
    } else {
        (None, None)
    };

    let parts = RawParts {
        n_states: header.n_states,
        n_actions: header.n_actions,
        state_pairs,
        pair_action,
        pair_outcomes,
        pair_reward,
        next,
        probability,
        reward,
        terminal,
        terminal_values,
        state_names,
        action_names,
    };
    let tolerance = options.probability_tolerance.unwrap_or(header.tolerance);
    let (mdp, summary): (TabularMdp, BuildSummary) = TabularMdp::from_raw_parts(
        parts,
        ValidationOptions::with_tolerance(tolerance),
    )
    .map_err(|e| match e {
        RawPartsError::Model(error) => ReadError::new(path, None, ReadErrorKind::Model(error)),
        RawPartsError::Layout(message) => invalid(message),
    })?;
    Ok(LoadedModel {
        mdp,
        summary,
        discount: header.has(FLAG_DISCOUNT).then_some(header.discount),
        sense: match header.sense {
            1 if header.has(FLAG_SENSE) => Some(Sense::Maximize),
            2 if header.has(FLAG_SENSE) => Some(Sense::Minimize),
            _ => None,
        },
        format: Format::Binary,
        later_stages: Vec::new(),
        bounds: None,
    })
}

fn io_at(path: &Path, e: io::Error) -> ReadError {
    ReadError::new(path, None, ReadErrorKind::Io(e))
}

type Names = (Option<Vec<String>>, Option<Vec<String>>);

fn parse_names(bytes: &[u8]) -> Result<Names, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NamesDoc {
        states: Option<Vec<String>>,
        actions: Option<Vec<String>>,
    }
    // serde_json quotes an unknown field's name as decoded: a `\t` or a terminal escape
    // written in the names would otherwise reach the one-line error (found by fuzzing).
    let doc: NamesDoc = serde_json::from_slice(bytes)
        .map_err(|e| crate::json_model::escape_controls(&e.to_string()))?;
    Ok((doc.states, doc.actions))
}

/// A read that came up short: the stream ended at byte `offset`.
enum SectionError {
    Truncated(u64),
    Io(io::Error),
}

impl SectionError {
    fn at(self, path: &Path) -> ReadError {
        match self {
            SectionError::Truncated(offset) => ReadError::new(
                path,
                None,
                ReadErrorKind::Format(format!(
                    "truncated: the data ends at byte {offset}, before the header's sizes are read"
                )),
            ),
            SectionError::Io(e) => io_at(path, e),
        }
    }
}

fn read_exact_or_truncated(
    input: &mut impl Read,
    buf: &mut [u8],
    offset: u64,
) -> Result<(), SectionError> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => return Err(SectionError::Truncated(offset + filled as u64)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(SectionError::Io(e)),
        }
    }
    Ok(())
}

/// The payload, read section by section in bulk and hashed as it streams.
struct Sections<'f, R> {
    input: R,
    hasher: Xxh64,
    buffer: Vec<u8>,
    offset: u64,
    preallocate: bool,
    /// See [`read_stream`].
    mappable: Option<&'f File>,
}

impl<R: Read> Sections<'_, R> {
    /// Reads `count` elements of `WIDTH` bytes each (then the padding), decoding each chunk.
    fn elements<T, const WIDTH: usize>(
        &mut self,
        count: usize,
        decode: impl Fn([u8; WIDTH]) -> T,
    ) -> Result<Vec<T>, SectionError> {
        // The file length was checked, so `count` is real; from a stream it is not yet.
        let mut out = Vec::with_capacity(if self.preallocate {
            count
        } else {
            count.min(CHUNK_BYTES)
        });
        let per_chunk = CHUNK_BYTES / WIDTH;
        let mut left = count;
        while left > 0 {
            let take = left.min(per_chunk);
            let bytes = &mut self.buffer[..take * WIDTH];
            read_exact_or_truncated(&mut self.input, bytes, self.offset)?;
            self.hasher.update(bytes);
            self.offset += bytes.len() as u64;
            out.extend(
                bytes
                    .chunks_exact(WIDTH)
                    .map(|c| decode(c.try_into().expect("WIDTH bytes"))),
            );
            left -= take;
        }
        self.padding(count * WIDTH)?;
        Ok(out)
    }

    fn padding(&mut self, size: usize) -> Result<(), SectionError> {
        let pad = (8 - size % 8) % 8;
        let mut zeros = [0u8; 8];
        read_exact_or_truncated(&mut self.input, &mut zeros[..pad], self.offset)?;
        self.hasher.update(&zeros[..pad]);
        self.offset += pad as u64;
        Ok(())
    }

    fn u32s(&mut self, count: usize) -> Result<Vec<u32>, SectionError> {
        self.elements(count, u32::from_le_bytes)
    }

    fn f64s(&mut self, count: usize) -> Result<Vec<f64>, SectionError> {
        self.elements(count, f64::from_le_bytes)
    }

    /// u64 offsets; one beyond `usize` (a 32-bit build) saturates and fails validation.
    fn usizes(&mut self, count: usize) -> Result<Vec<usize>, SectionError> {
        self.elements(count, |b| {
            usize::try_from(u64::from_le_bytes(b)).unwrap_or(usize::MAX)
        })
    }

    fn bytes(&mut self, count: usize) -> Result<Vec<u8>, SectionError> {
        self.elements(count, |b: [u8; 1]| b[0])
    }

    /// A section read straight into a [`LargeArray`] (huge-page memory for the big arrays),
    /// when the file's length was checked and the stored bytes are the machine's own
    /// (little-endian, `usize` of 8 bytes); otherwise decoded like the small sections.
    fn large<T: bytemuck::Pod>(
        &mut self,
        count: usize,
        decoded: impl FnOnce(&mut Self, usize) -> Result<Vec<T>, SectionError>,
    ) -> Result<LargeArray<T>, SectionError> {
        let native = cfg!(target_endian = "little") && cfg!(target_pointer_width = "64");
        if !(self.preallocate && native) {
            return decoded(self, count).map(LargeArray::from);
        }
        let bytes = count * size_of::<T>();
        if let Some(file) = self.mappable.filter(|_| bytes >= MAP_AT_LEAST) {
            let map = map_section(file, self.offset, bytes).map_err(SectionError::Io)?;
            // `None` only for a map not aligned for `T`, which sections starting at
            // multiples of 8 cannot give: then the section is read after all.
            if let Some(array) = LargeArray::<T>::from_map(map) {
                self.hasher.update(bytemuck::cast_slice(&array));
                self.offset += bytes as u64;
                // On past the section, for the reads that follow (`input` reads this
                // descriptor).
                io::Seek::seek(&mut &*file, io::SeekFrom::Start(self.offset))
                    .map_err(SectionError::Io)?;
                self.padding(bytes)?;
                return Ok(array);
            }
        }
        let mut array = LargeArray::<T>::zeroed(count);
        for bytes in array.as_bytes_mut().chunks_mut(CHUNK_BYTES) {
            read_exact_or_truncated(&mut self.input, bytes, self.offset)?;
            self.hasher.update(bytes);
            self.offset += bytes.len() as u64;
        }
        self.padding(count * size_of::<T>())?;
        Ok(array)
    }

    /// The probability section rounded to `f32` ([`round_probability`]) as it streams.
    fn f64s_as_f32(&mut self, count: usize) -> Result<LargeArray<f32>, SectionError> {
        let mut array = LargeArray::<f32>::zeroed(count);
        for out in array.chunks_mut(CHUNK_BYTES / 8) {
            let bytes = &mut self.buffer[..out.len() * 8];
            read_exact_or_truncated(&mut self.input, bytes, self.offset)?;
            self.hasher.update(bytes);
            self.offset += bytes.len() as u64;
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                *o = round_probability(f64::from_le_bytes(b.try_into().expect("8 bytes")));
            }
        }
        self.padding(count * 8)?;
        Ok(array)
    }

    /// Reads and hashes `bytes` bytes, keeping nothing.
    fn skip(&mut self, bytes: usize) -> Result<(), SectionError> {
        let mut left = bytes;
        while left > 0 {
            let take = left.min(CHUNK_BYTES);
            let chunk = &mut self.buffer[..take];
            read_exact_or_truncated(&mut self.input, chunk, self.offset)?;
            self.hasher.update(chunk);
            self.offset += take as u64;
            left -= take;
        }
        self.padding(bytes)
    }

    fn large_u32s(&mut self, count: usize) -> Result<LargeArray<u32>, SectionError> {
        self.large(count, Self::u32s)
    }

    fn large_f64s(&mut self, count: usize) -> Result<LargeArray<f64>, SectionError> {
        self.large(count, Self::f64s)
    }

    /// u64 offsets, as [`Self::usizes`]; read directly only where `usize` is `u64`.
    fn large_usizes(&mut self, count: usize) -> Result<LargeArray<usize>, SectionError> {
        self.large(count, Self::usizes)
    }
}

/// The exact outcomes of a `.decide` file — next states and `f64` probabilities, in stored
/// order — read again from the file, a block at a time: what certifies a solve of the model
/// held with `f32` probabilities without holding the exact values in memory.
pub struct ExactOutcomes {
    /// The file the model was loaded from (the same open file, so a file renamed over the
    /// path meanwhile changes nothing), read at explicit offsets.
    file: File,
    next_at: u64,
    probability_at: u64,
    n_transitions: u64,
    position: u64,
    bytes: Vec<u8>,
}

impl ExactOutcomes {
    /// Opens `path` (a `.decide` file) at its first outcome.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        let file = File::open(path).map_err(|e| io_at(path, e))?;
        Self::from_file(path, file)
    }

    /// The outcomes of the open `.decide` file `file` (`path` names it in messages).
    pub fn from_file(path: &Path, file: File) -> Result<Self, ReadError> {
        let invalid = |message: String| ReadError::new(path, None, ReadErrorKind::Format(message));
        let mut raw_header = [0u8; HEADER_BYTES];
        read_at(&file, &mut raw_header, 0).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => invalid(format!(
                "truncated: shorter than the {HEADER_BYTES}-byte header"
            )),
            _ => io_at(path, e),
        })?;
        let header = Header::decode(&raw_header).map_err(invalid)?;
        let layout = || invalid("the header claims sizes beyond any file".into());
        Ok(ExactOutcomes {
            file,
            next_at: header.section_start(4).ok_or_else(layout)?,
            probability_at: header.section_start(5).ok_or_else(layout)?,
            n_transitions: header.n_transitions,
            position: 0,
            bytes: Vec::new(),
        })
    }
}

/// Fills `buf` from byte `offset` of `file`, leaving the file's position alone where the
/// platform can (Unix `pread`).
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::Seek;
        let mut file = file;
        file.seek(io::SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

impl decide_core::model::OutcomeSource for ExactOutcomes {
    fn rewind(&mut self) -> io::Result<()> {
        self.position = 0;
        Ok(())
    }

    fn read(&mut self, next: &mut [u32], probability: &mut [f64]) -> io::Result<()> {
        let count = next.len().min(probability.len());
        if self.position + count as u64 > self.n_transitions {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the file's last outcome",
            ));
        }
        self.bytes.resize(count * 8, 0);
        let next_bytes = &mut self.bytes[..count * 4];
        read_at(&self.file, next_bytes, self.next_at + 4 * self.position)?;
        for (n, b) in next.iter_mut().zip(next_bytes.chunks_exact(4)) {
            *n = u32::from_le_bytes(b.try_into().expect("4 bytes"));
        }
        let probability_bytes = &mut self.bytes[..count * 8];
        read_at(
            &self.file,
            probability_bytes,
            self.probability_at + 8 * self.position,
        )?;
        for (p, b) in probability
            .iter_mut()
            .zip(probability_bytes.chunks_exact(8))
        {
            *p = f64::from_le_bytes(b.try_into().expect("8 bytes"));
        }
        self.position += count as u64;
        Ok(())
    }
}

/// Writes `model` as a `.decide` file at `path`, atomically, keeping everything it has
/// (per-outcome rewards when the model has them, names, terminal values, discount, sense).
pub fn write(path: &Path, model: &LoadedModel) -> Result<(), WriteError> {
    crate::atomic::write_atomically(path, |w| {
        write_to(w, &model.mdp, model.discount, model.sense)
    })
}

/// Writes `mdp` (with the discount and sense, when given) in the `.decide` format.
pub fn write_to(
    w: &mut dyn Write,
    mdp: &TabularMdp,
    discount: Option<f64>,
    sense: Option<Sense>,
) -> io::Result<()> {
    let raw = mdp.raw();
    let terminal: Vec<u32> = (0..mdp.n_states() as u32)
        .filter(|&s| mdp.is_terminal(StateId(s)))
        .collect();
    let terminal_values: Vec<f64> = if mdp.has_terminal_values() {
        terminal
            .iter()
            .map(|&s| mdp.terminal_value(s as usize))
            .collect()
    } else {
        Vec::new()
    };
    let names = if mdp.state_names().is_some() || mdp.action_names().is_some() {
        serde_json::to_vec(&serde_json::json!({
            "states": mdp.state_names(),
            "actions": mdp.action_names(),
        }))
        .map_err(io::Error::from)?
    } else {
        Vec::new()
    };
    // The tolerance the model meets, so that reading it back accepts it whatever format it
    // first came from (Cassandra files allow 1e-5); the reader's option overrides it.
    let Some(probability) = raw.probability.exact() else {
        // Writing rounded probabilities would pass them off as the model's own.
        return Err(io::Error::other(
            "a model held with f32 probabilities is an approximation and is not written",
        ));
    };
    let mut deviation = 0.0f64;
    for k in 0..mdp.n_pairs() {
        let sum: f64 = probability[raw.pair_outcomes[k]..raw.pair_outcomes[k + 1]]
            .iter()
            .sum();
        deviation = deviation.max((sum - 1.0).abs());
    }
    let mut flags = 0;
    let mut set = |flag: u32, on: bool| {
        if on {
            flags |= flag;
        }
    };
    set(FLAG_OUTCOME_REWARDS, raw.reward.is_some());
    set(FLAG_DISCOUNT, discount.is_some());
    set(FLAG_SENSE, sense.is_some());
    set(FLAG_TERMINAL_VALUES, !terminal_values.is_empty());
    set(FLAG_NAMES, !names.is_empty());
    let mut header = Header {
        flags,
        n_states: mdp.n_states() as u64,
        n_actions: mdp.n_actions() as u64,
        n_pairs: mdp.n_pairs() as u64,
        n_transitions: mdp.n_transitions() as u64,
        n_terminal: terminal.len() as u64,
        names_bytes: names.len() as u64,
        discount: discount.unwrap_or(0.0),
        sense: match sense {
            None => 0,
            Some(Sense::Maximize) => 1,
            Some(Sense::Minimize) => 2,
        },
        tolerance: deviation.max(crate::csv_model::DEFAULT_PROBABILITY_TOLERANCE),
        file_length: 0,
        payload_checksum: 0,
    };
    header.file_length = header
        .implied_length()
        .ok_or_else(|| io::Error::other("model too large for the format"))?;
    let payload = |sink: &mut dyn FnMut(&[u8]) -> io::Result<()>| -> io::Result<()> {
        emit(sink, raw.state_pairs, |&x| (x as u64).to_le_bytes())?;
        emit(sink, raw.pair_action, |x| x.to_le_bytes())?;
        emit(sink, raw.pair_outcomes, |&x| (x as u64).to_le_bytes())?;
        emit(sink, raw.pair_reward, |x| x.to_le_bytes())?;
        emit(sink, raw.next, |x| x.to_le_bytes())?;
        emit(sink, probability, |x| x.to_le_bytes())?;
        if let Some(reward) = raw.reward {
            emit(sink, reward, |x| x.to_le_bytes())?;
        }
        emit(sink, &terminal, |x| x.to_le_bytes())?;
        emit(sink, &terminal_values, |x| x.to_le_bytes())?;
        emit(sink, &names, |&x| [x])
    };
    // Two passes: the checksum goes in the header, which comes first.
    let mut hasher = Xxh64::new(0);
    payload(&mut |bytes| {
        hasher.update(bytes);
        Ok(())
    })?;
    header.payload_checksum = hasher.finish();
    w.write_all(&header.encode())?;
    payload(&mut |bytes| w.write_all(bytes))
}

/// Encodes `items` little-endian in bulk chunks, then the zero padding to 8 bytes.
fn emit<T, const WIDTH: usize>(
    sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    items: &[T],
    encode: impl Fn(&T) -> [u8; WIDTH],
) -> io::Result<()> {
    let mut buffer = Vec::with_capacity(CHUNK_BYTES);
    for chunk in items.chunks(CHUNK_BYTES / WIDTH) {
        buffer.clear();
        for item in chunk {
            buffer.extend_from_slice(&encode(item));
        }
        sink(&buffer)?;
    }
    let pad = (8 - (items.len() * WIDTH) % 8) % 8;
    sink(&[0u8; 8][..pad])
}

const PRIME_1: u64 = 0x9E37_79B1_85EB_CA87;
const PRIME_2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const PRIME_3: u64 = 0x1656_67B1_9E37_79F9;
const PRIME_4: u64 = 0x85EB_CA77_C2B2_AE63;
const PRIME_5: u64 = 0x27D4_EB2F_1656_67C5;

/// XXH64 (Collet), streaming: fast enough (several GB/s) not to slow loading down.
#[derive(Clone, Debug)]
pub struct Xxh64 {
    seed: u64,
    lanes: [u64; 4],
    pending: [u8; 32],
    pending_len: usize,
    total: u64,
}

#[inline]
fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(PRIME_2))
        .rotate_left(31)
        .wrapping_mul(PRIME_1)
}

#[inline]
fn merge_round(acc: u64, lane: u64) -> u64 {
    (acc ^ round(0, lane))
        .wrapping_mul(PRIME_1)
        .wrapping_add(PRIME_4)
}

#[inline]
fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

impl Xxh64 {
    /// A hasher with the given seed.
    pub fn new(seed: u64) -> Self {
        Xxh64 {
            seed,
            lanes: [
                seed.wrapping_add(PRIME_1).wrapping_add(PRIME_2),
                seed.wrapping_add(PRIME_2),
                seed,
                seed.wrapping_sub(PRIME_1),
            ],
            pending: [0; 32],
            pending_len: 0,
            total: 0,
        }
    }

    fn stripe(lanes: &mut [u64; 4], stripe: &[u8]) {
        for (i, lane) in lanes.iter_mut().enumerate() {
            *lane = round(*lane, word(stripe, 8 * i));
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.pending_len > 0 {
            let take = (32 - self.pending_len).min(bytes.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            self.pending_len += take;
            bytes = &bytes[take..];
            if self.pending_len < 32 {
                return;
            }
            let pending = self.pending;
            Self::stripe(&mut self.lanes, &pending);
            self.pending_len = 0;
        }
        let mut stripes = bytes.chunks_exact(32);
        let [mut a, mut b, mut c, mut d] = self.lanes;
        for s in &mut stripes {
            a = round(a, word(s, 0));
            b = round(b, word(s, 8));
            c = round(c, word(s, 16));
            d = round(d, word(s, 24));
        }
        self.lanes = [a, b, c, d];
        let rest = stripes.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The hash of everything added.
    pub fn finish(&self) -> u64 {
        let [a, b, c, d] = self.lanes;
        let mut h = if self.total >= 32 {
            let mut h = a
                .rotate_left(1)
                .wrapping_add(b.rotate_left(7))
                .wrapping_add(c.rotate_left(12))
                .wrapping_add(d.rotate_left(18));
            for lane in self.lanes {
                h = merge_round(h, lane);
            }
            h
        } else {
            self.seed.wrapping_add(PRIME_5)
        };
        h = h.wrapping_add(self.total);
        let rest = &self.pending[..self.pending_len];
        let mut words = rest.chunks_exact(8);
        for w in &mut words {
            h ^= round(0, u64::from_le_bytes(w.try_into().expect("8 bytes")));
            h = h
                .rotate_left(27)
                .wrapping_mul(PRIME_1)
                .wrapping_add(PRIME_4);
        }
        let mut tail = words.remainder();
        if tail.len() >= 4 {
            let w = u32::from_le_bytes(tail[..4].try_into().expect("4 bytes"));
            h ^= u64::from(w).wrapping_mul(PRIME_1);
            h = h
                .rotate_left(23)
                .wrapping_mul(PRIME_2)
                .wrapping_add(PRIME_3);
            tail = &tail[4..];
        }
        for &byte in tail {
            h ^= u64::from(byte).wrapping_mul(PRIME_5);
            h = h.rotate_left(11).wrapping_mul(PRIME_1);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(PRIME_2);
        h ^= h >> 29;
        h = h.wrapping_mul(PRIME_3);
        h ^ (h >> 32)
    }
}

/// Recomputes the header's own checksum in a `.decide` image (nothing is done to an image
/// shorter than the header).
pub fn reseal_header(bytes: &mut [u8]) {
    if bytes.len() < HEADER_BYTES {
        return;
    }
    let checksum = xxh64(&bytes[..HEADER_CHECKSUM_AT]);
    bytes[HEADER_CHECKSUM_AT..HEADER_CHECKSUM_AT + 8].copy_from_slice(&checksum.to_le_bytes());
}

/// Recomputes both checksums of a `.decide` image (of the payload, then of the header), so
/// that a file edited on purpose — by a test or a fuzzer — reaches the checks behind them.
/// Nothing is done to an image shorter than the header.
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() < HEADER_BYTES {
        return;
    }
    let payload = xxh64(&bytes[HEADER_BYTES..]);
    bytes[PAYLOAD_CHECKSUM_AT..PAYLOAD_CHECKSUM_AT + 8].copy_from_slice(&payload.to_le_bytes());
    reseal_header(bytes);
}

/// XXH64 of `bytes`, seed 0.
pub fn xxh64(bytes: &[u8]) -> u64 {
    let mut h = Xxh64::new(0);
    h.update(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh64_known_values_and_streaming() {
        assert_eq!(xxh64(b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"a"), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(xxh64(b"abc"), 0x44BC_2CF5_AD77_0999);
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let whole = xxh64(&data);
        for split in [0, 1, 5, 31, 32, 33, 64, 500, 999, 1000] {
            let mut h = Xxh64::new(0);
            h.update(&data[..split]);
            h.update(&data[split..]);
            assert_eq!(h.finish(), whole, "split at {split}");
        }
    }

    #[test]
    fn header_encodes_and_decodes() {
        let header = Header {
            flags: FLAG_DISCOUNT,
            n_states: 2,
            n_actions: 1,
            n_pairs: 2,
            n_transitions: 2,
            n_terminal: 0,
            names_bytes: 0,
            discount: 0.9,
            sense: 0,
            tolerance: 1e-9,
            file_length: 0,
            payload_checksum: 7,
        };
        let header = Header {
            file_length: header.implied_length().unwrap(),
            ..header
        };
        assert_eq!(Header::decode(&header.encode()).unwrap(), header);
        let huge = Header {
            n_transitions: u64::MAX / 2,
            ..header
        };
        assert!(Header::decode(&huge.encode()).is_err());
    }
}
