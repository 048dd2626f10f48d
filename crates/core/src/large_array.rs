//! [`LargeArray`]: an array of plain numbers placed where the kernel can back it with huge
//! pages.
//!
//! # Why
//!
//! A Bellman sweep gathers `v[next]` at random over the whole value vector, and loading a
//! model writes hundreds of megabytes into fresh memory. With 4 KiB pages both are dominated
//! by the paging hardware, not by the memory: each random gather into an 8 MB vector misses
//! the TLB (on a virtual machine a nested walk), and each fresh page is a page fault. Linux
//! backs memory with 2 MiB pages ("transparent huge pages") when a program asks for it with
//! `madvise(MADV_HUGEPAGE)` — the default setting of most distributions is `madvise`, which
//! does nothing for memory that did not ask. Measured on the project's machine (random model,
//! 10^6 states, 2·10^7 transitions): `.decide` loading 0.22 → 0.10 s, a whole solve about 25%
//! faster.
//!
//! `Vec` cannot ask, and the workspace forbids `unsafe`; so arrays of 2 MiB and more are
//! anonymous memory maps (`memmap2`, whose `map_anon` and `advise` are safe), aligned to a huge
//! page inside the map, seen as slices through `bytemuck`. Smaller arrays are plain `Vec`s.
//! Where huge pages are off or unsupported, the advice is ignored and the array still works.
//!
//! A third kind of storage is a private map of a file's bytes ([`LargeArray::from_map`]): the
//! `.decide` reader hands the big sections of a model file over that way, so that they are the
//! page cache's pages rather than a copy (see `decide_io::binary`).

use bytemuck::Pod;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// The size of a huge page on x86-64 and most aarch64 kernels.
const HUGE_PAGE: usize = 2 << 20;

/// A fixed-length array of plain numbers (`u32`, `f64`, `usize`, …); see the module docs.
/// Derefs to a slice.
pub struct LargeArray<T: Pod> {
    storage: Storage<T>,
}

enum Storage<T: Pod> {
    Heap(Vec<T>),
    /// The map, the byte offset of the first element (the first huge-page boundary in an
    /// anonymous map; 0 in a map of a file's section) and the element count.
    Mapped {
        map: memmap2::MmapMut,
        offset: usize,
        len: usize,
    },
}

impl<T: Pod> LargeArray<T> {
    /// `len` zeros (all bits zero: `0`, `0.0`).
    ///
    /// # Panics
    /// When the memory cannot be had, like `vec!` (callers check sizes against the memory first).
    pub fn zeroed(len: usize) -> Self {
        let bytes = len
            .checked_mul(size_of::<T>())
            .expect("array size overflows usize");
        if bytes < HUGE_PAGE {
            return LargeArray {
                storage: Storage::Heap(vec![T::zeroed(); len]),
            };
        }
        // One huge page more than needed, so that a huge-page boundary can start the data
        // whatever address the kernel picks.
        let map = memmap2::MmapOptions::new()
            .len(bytes + HUGE_PAGE)
            .map_anon()
            .unwrap_or_else(|e| panic!("cannot map {bytes} bytes of memory: {e}"));
        let address = map.as_ptr() as usize;
        let offset = address.next_multiple_of(HUGE_PAGE) - address;
        // Advice only: an error (huge pages compiled out, an old kernel) changes nothing else.
        let _ = map.advise_range(memmap2::Advice::HugePage, offset, bytes);
        LargeArray {
            storage: Storage::Mapped { map, offset, len },
        }
    }

    /// `len` copies of `value`.
    pub fn filled(len: usize, value: T) -> Self {
        let mut array = Self::zeroed(len);
        if bytemuck::bytes_of(&value).iter().any(|&b| b != 0) {
            array.fill(value);
        }
        array
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[T]) -> Self {
        let mut array = Self::zeroed(values.len());
        array.copy_from_slice(values);
        array
    }

    /// The elements held by a memory map of exactly their bytes — typically a private
    /// (copy-on-write) map of a section of a file, made by the caller, who answers for what
    /// the map may see. `None` when the map's length is not a whole number of elements or its
    /// address is not aligned for `T`.
    pub fn from_map(map: memmap2::MmapMut) -> Option<Self> {
        let len = map.len().checked_div(size_of::<T>())?;
        if map.len() % size_of::<T>() != 0 || bytemuck::try_cast_slice::<u8, T>(&map).is_err() {
            return None;
        }
        Some(LargeArray {
            storage: Storage::Mapped {
                map,
                offset: 0,
                len,
            },
        })
    }

    /// The elements as bytes, to read a file straight into the array.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(self.deref_mut())
    }
}

impl<T: Pod> Deref for LargeArray<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.storage {
            Storage::Heap(v) => v,
            Storage::Mapped { map, offset, len } => {
                bytemuck::cast_slice(&map[*offset..*offset + *len * size_of::<T>()])
            }
        }
    }
}

impl<T: Pod> DerefMut for LargeArray<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.storage {
            Storage::Heap(v) => v,
            Storage::Mapped { map, offset, len } => {
                bytemuck::cast_slice_mut(&mut map[*offset..*offset + *len * size_of::<T>()])
            }
        }
    }
}

impl<T: Pod> Clone for LargeArray<T> {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl<T: Pod> Default for LargeArray<T> {
    fn default() -> Self {
        LargeArray {
            storage: Storage::Heap(Vec::new()),
        }
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for LargeArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.deref(), f)
    }
}

impl<T: Pod + PartialEq> PartialEq for LargeArray<T> {
    fn eq(&self, other: &Self) -> bool {
        self.deref() == other.deref()
    }
}

impl<T: Pod> From<Vec<T>> for LargeArray<T> {
    /// Keeps the vector as it is, large or small: copying it into huge-page memory would
    /// touch as much fresh memory again, which costs more than the pages save for arrays a
    /// sweep streams in order (huge pages matter for the value vector, which sweeps gather
    /// from at random, and which the solvers allocate with [`LargeArray::zeroed`]).
    fn from(values: Vec<T>) -> Self {
        LargeArray {
            storage: Storage::Heap(values),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_arrays_behave_like_vectors() {
        for len in [0, 1, 1000, HUGE_PAGE / 8 + 3, 3 * HUGE_PAGE / 8] {
            let mut a = LargeArray::<f64>::filled(len, 1.5);
            assert_eq!(a.len(), len);
            assert!(a.iter().all(|&x| x == 1.5));
            for (i, x) in a.iter_mut().enumerate() {
                *x = i as f64;
            }
            let b = a.clone();
            assert_eq!(a, b);
            assert_eq!(b.last().copied(), len.checked_sub(1).map(|i| i as f64));
            let z = LargeArray::<u32>::zeroed(len);
            assert!(z.iter().all(|&x| x == 0));
            let bytes = LargeArray::<u32>::filled(len, 7).as_bytes_mut().len();
            assert_eq!(bytes, 4 * len);
            let v: Vec<u32> = (0..len as u32).collect();
            assert_eq!(&LargeArray::from(v.clone())[..], &v[..]);
        }
    }

    #[test]
    fn arrays_over_a_map_take_whole_aligned_elements() {
        let mut map = memmap2::MmapOptions::new().len(24).map_anon().unwrap();
        map.copy_from_slice(bytemuck::cast_slice(&[1.0f64, 2.0, 3.0]));
        let mut a = LargeArray::<f64>::from_map(map).expect("24 bytes are 3 f64");
        assert_eq!(&a[..], &[1.0, 2.0, 3.0]);
        a[1] = 5.0;
        assert_eq!(a.clone(), LargeArray::from(vec![1.0, 5.0, 3.0]));
        let map = memmap2::MmapOptions::new().len(20).map_anon().unwrap();
        assert!(
            LargeArray::<f64>::from_map(map).is_none(),
            "20 bytes are not whole f64s"
        );
    }

    #[test]
    fn large_arrays_start_on_a_huge_page() {
        let a = LargeArray::<f64>::zeroed(HUGE_PAGE);
        assert_eq!(a.as_ptr() as usize % HUGE_PAGE, 0);
    }
}
