//! What the unwinder and the profile need from an ELF file: unwind sections, the layout of
//! its loadable segments, and its build id.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use object::{Object, ObjectSection, ObjectSegment};

use crate::error::ProbeError;
use crate::maps::MapEntry;

/// Shared section bytes; framehop consumes one handle per module it is given.
pub type Bytes = Arc<[u8]>;

/// A section's address range (as linked) and its bytes.
#[derive(Clone, Debug)]
struct Section {
    svma: Range<u64>,
    data: Bytes,
}

/// The unwinding and identity facts of one ELF file.
#[derive(Debug)]
pub struct ObjectInfo {
    /// GNU build id as lowercase hex; empty when the file has none.
    pub build_id: String,
    /// Loadable segments: file range, linked address of the range's start, executable.
    segments: Vec<(Range<u64>, u64, bool)>,
    text: Option<Section>,
    eh_frame: Option<Section>,
    eh_frame_hdr: Option<Section>,
    got: Option<Range<u64>>,
    debug_frame: Option<Bytes>,
}

impl ObjectInfo {
    /// Reads the file at `path` and keeps what unwinding needs.
    pub fn load(path: &Path) -> Result<ObjectInfo, ProbeError> {
        let bytes = std::fs::read(path).map_err(|source| ProbeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes).map_err(|e| ProbeError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// Extracts the facts from the bytes of an ELF file.
    pub fn parse(bytes: &[u8]) -> Result<ObjectInfo, object::Error> {
        let file = object::File::parse(bytes)?;
        let section = |name: &str| {
            let s = file.section_by_name(name)?;
            let data = s.uncompressed_data().ok()?;
            Some(Section {
                svma: s.address()..s.address().saturating_add(s.size()),
                data: Arc::from(&data[..]),
            })
        };
        let build_id = file
            .build_id()
            .ok()
            .flatten()
            .map(|id| id.iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_default();
        let segments = file
            .segments()
            .map(|seg| {
                let (off, size) = seg.file_range();
                let exec = matches!(seg.flags(), object::SegmentFlags::Elf { p_flags, .. } if p_flags.0 & object::elf::PF_X.0 != 0);
                (off..off.saturating_add(size), seg.address(), exec)
            })
            .collect();
        let eh_frame = section(".eh_frame");
        Ok(ObjectInfo {
            build_id,
            segments,
            text: section(".text"),
            eh_frame_hdr: section(".eh_frame_hdr"),
            got: file
                .section_by_name(".got")
                .map(|s| s.address()..s.address().saturating_add(s.size())),
            // Go binaries and some stripped C builds have no .eh_frame; their CFI is here.
            debug_frame: if eh_frame.is_none() {
                section(".debug_frame").map(|s| s.data)
            } else {
                None
            },
            eh_frame,
        })
    }

    /// The load bias of `map` (a mapping of this file): what to add to a linked address to
    /// get the address in the process. `None` when no segment covers the mapping's offset.
    pub fn bias(&self, map: &MapEntry) -> Option<u64> {
        // The kernel maps whole pages: a segment's mapping starts at its page-aligned file
        // offset, which may also lie inside the previous segment, so match on the flags too.
        const PAGE: u64 = 0xfff;
        let (range, vaddr, _) = self.segments.iter().find(|(range, _, exec)| {
            *exec == map.exec
                && range.start & !PAGE <= map.offset
                && map.offset < range.end.max(range.start + 1)
        })?;
        let svma = (vaddr & !PAGE).wrapping_add(map.offset - (range.start & !PAGE));
        Some(map.start.wrapping_sub(svma))
    }

    /// A framehop module for `map`, loaded with load bias `bias`.
    pub fn module(&self, map: &MapEntry, bias: u64) -> framehop::Module<Bytes> {
        let info = framehop::ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: self.text.as_ref().map(|s| s.svma.clone()),
            text: self.text.as_ref().map(|s| s.data.clone()),
            got_svma: self.got.clone(),
            eh_frame_svma: self.eh_frame.as_ref().map(|s| s.svma.clone()),
            eh_frame: self.eh_frame.as_ref().map(|s| s.data.clone()),
            eh_frame_hdr_svma: self.eh_frame_hdr.as_ref().map(|s| s.svma.clone()),
            eh_frame_hdr: self.eh_frame_hdr.as_ref().map(|s| s.data.clone()),
            debug_frame: self.debug_frame.clone(),
            ..Default::default()
        };
        framehop::Module::new(map.path.clone(), map.start..map.end, bias, info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_executable() {
        let exe = std::env::current_exe().unwrap();
        let info = ObjectInfo::load(&exe).unwrap();
        assert!(info.eh_frame.is_some() || info.debug_frame.is_some());
        assert!(!info.segments.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(ObjectInfo::parse(b"\x7fELF garbage").is_err());
        assert!(ObjectInfo::parse(&[]).is_err());
    }
}

#[cfg(test)]
mod bias_tests {
    use super::*;

    #[test]
    fn text_segment_sharing_a_page_with_the_read_only_one() {
        // rustc's layout: R segment at file 0..0x13028, R+X at 0x13030 (vaddr 0x14030),
        // mapped r-xp from page offset 0x13000.
        let info = ObjectInfo {
            build_id: String::new(),
            segments: vec![(0..0x13028, 0, false), (0x13030..0x50d00, 0x14030, true)],
            text: None,
            eh_frame: None,
            eh_frame_hdr: None,
            got: None,
            debug_frame: None,
        };
        let map = MapEntry {
            start: 0x558a_6af1_4000,
            end: 0x558a_6af5_2000,
            offset: 0x13000,
            exec: true,
            path: "/x".into(),
        };
        assert_eq!(info.bias(&map), Some(0x558a_6af0_0000));
    }
}
