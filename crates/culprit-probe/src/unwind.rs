//! User-space stack unwinding from registers and a copy of stack memory: DWARF CFI where the
//! object has it (`.eh_frame`, `.debug_frame`), frame pointers where it does not.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use framehop::Unwinder as _;
use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};

use crate::maps::{MapEntry, read_maps};
use crate::object_info::{Bytes, ObjectInfo};

/// Deepest stack we follow; deeper ones are cut (and still counted).
const MAX_FRAMES: usize = 256;
/// How often a process's memory map may be re-read when an address falls outside it.
const MAPS_REFRESH: Duration = Duration::from_millis(20);

/// User registers needed to start unwinding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Regs {
    /// Instruction pointer.
    pub ip: u64,
    /// Stack pointer.
    pub sp: u64,
    /// Frame pointer (`rbp`).
    pub bp: u64,
}

/// A mapping seen in some target process, with the identity of its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenMapping {
    /// Where and what.
    pub entry: MapEntry,
    /// GNU build id (hex), empty when unknown.
    pub build_id: String,
}

/// An unwound frame: the address to symbolize (return addresses already moved back into the
/// call instruction) and the mapping it lies in, as an index into
/// [`AddressSpaces::mappings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// Address to symbolize.
    pub addr: u64,
    /// Index into [`AddressSpaces::mappings`], if the address is mapped.
    pub mapping: Option<u32>,
}

struct Space {
    maps: Vec<(MapEntry, Option<u32>)>,
    unwinder: UnwinderX86_64<Bytes>,
    refreshed: Instant,
}

/// The address spaces of every process being unwound, their modules, and every executable
/// mapping seen so far (for the profile's mapping table).
pub struct AddressSpaces {
    objects: HashMap<String, Option<Arc<ObjectInfo>>>,
    spaces: HashMap<u32, Space>,
    cache: CacheX86_64,
    mappings: Vec<SeenMapping>,
    mapping_ids: HashMap<(String, u64, u64, u64), u32>,
}

impl Default for AddressSpaces {
    fn default() -> Self {
        Self::new()
    }
}

impl AddressSpaces {
    /// An empty set.
    pub fn new() -> Self {
        AddressSpaces {
            objects: HashMap::new(),
            spaces: HashMap::new(),
            cache: CacheX86_64::new(),
            mappings: Vec::new(),
            mapping_ids: HashMap::new(),
        }
    }

    /// Every executable mapping seen, indexed by [`Frame::mapping`].
    pub fn mappings(&self) -> &[SeenMapping] {
        &self.mappings
    }

    /// Registers a mapping that has no file (such as the kernel) and returns its index.
    pub fn pseudo_mapping(&mut self, entry: MapEntry) -> u32 {
        self.intern(entry, String::new())
    }

    /// The loaded ELF facts of `path`, read once.
    pub fn object(&mut self, path: &str) -> Option<Arc<ObjectInfo>> {
        self.objects
            .entry(path.to_string())
            .or_insert_with(|| ObjectInfo::load(Path::new(path)).ok().map(Arc::new))
            .clone()
    }

    fn intern(&mut self, entry: MapEntry, build_id: String) -> u32 {
        let key = (entry.path.clone(), entry.start, entry.end, entry.offset);
        if let Some(&id) = self.mapping_ids.get(&key) {
            return id;
        }
        let id = self.mappings.len() as u32;
        self.mappings.push(SeenMapping { entry, build_id });
        self.mapping_ids.insert(key, id);
        id
    }

    /// Forgets a process (it exited); its mappings stay in the table.
    pub fn forget(&mut self, pid: u32) {
        self.spaces.remove(&pid);
    }

    /// Reads the memory map of `pid` and loads modules for new executable mappings.
    fn refresh(&mut self, pid: u32) {
        let Ok(maps) = read_maps(pid) else {
            // The process is gone: keep what we knew, and stop retrying for a while.
            if let Some(space) = self.spaces.get_mut(&pid) {
                space.refreshed = Instant::now();
            }
            return;
        };
        let mut space = self.spaces.remove(&pid).unwrap_or_else(|| Space {
            maps: Vec::new(),
            unwinder: UnwinderX86_64::new(),
            refreshed: Instant::now(),
        });
        for (old, _) in &space.maps {
            if !maps.contains(old) {
                space.unwinder.remove_module(old.start);
            }
        }
        let mut fresh = Vec::new();
        for entry in maps.into_iter().filter(|m| m.exec) {
            if let Some((_, id)) = space.maps.iter().find(|(m, _)| *m == entry) {
                fresh.push((entry, *id));
                continue;
            }
            let object = if entry.is_file() {
                self.object(&entry.path)
            } else {
                None
            };
            let build_id = object
                .as_ref()
                .map(|o| o.build_id.clone())
                .unwrap_or_default();
            if let Some(object) = &object
                && let Some(bias) = object.bias(&entry)
            {
                space.unwinder.add_module(object.module(&entry, bias));
            }
            let id = self.intern(entry.clone(), build_id);
            fresh.push((entry, Some(id)));
        }
        space.maps = fresh;
        space.refreshed = Instant::now();
        self.spaces.insert(pid, space);
    }

    fn mapping_index(&self, pid: u32, addr: u64) -> Option<u32> {
        let space = self.spaces.get(&pid)?;
        space
            .maps
            .iter()
            .find(|(m, _)| m.contains(addr))
            .and_then(|(_, id)| *id)
    }

    /// Unwinds one user stack of process `pid` whose memory from `regs.sp` on is `stack`.
    pub fn unwind(&mut self, pid: u32, regs: Regs, stack: &[u8]) -> Vec<Frame> {
        if !self.spaces.contains_key(&pid) {
            self.refresh(pid);
        }
        let mut addrs = self.walk(pid, regs, stack);
        let unknown = addrs.iter().any(|&a| self.mapping_index(pid, a).is_none());
        let stale = self
            .spaces
            .get(&pid)
            .is_none_or(|s| s.refreshed.elapsed() >= MAPS_REFRESH);
        if unknown && stale {
            // A library was loaded since we last looked (dlopen, a new thread's stack).
            self.refresh(pid);
            addrs = self.walk(pid, regs, stack);
        }
        addrs
            .into_iter()
            .map(|addr| Frame {
                addr,
                mapping: self.mapping_index(pid, addr),
            })
            .collect()
    }

    fn walk(&mut self, pid: u32, regs: Regs, stack: &[u8]) -> Vec<u64> {
        let Some(space) = self.spaces.get(&pid) else {
            return vec![regs.ip];
        };
        let mut read_stack = |addr: u64| -> Result<u64, ()> {
            let off = addr.checked_sub(regs.sp).ok_or(())? as usize;
            let bytes = stack.get(off..off.checked_add(8).ok_or(())?).ok_or(())?;
            let mut word = [0u8; 8];
            word.copy_from_slice(bytes);
            Ok(u64::from_le_bytes(word))
        };
        let mut iter = space.unwinder.iter_frames(
            regs.ip,
            UnwindRegsX86_64::new(regs.ip, regs.sp, regs.bp),
            &mut self.cache,
            &mut read_stack,
        );
        let mut out = Vec::new();
        while out.len() < MAX_FRAMES {
            match iter.next() {
                Ok(Some(frame)) => out.push(frame.address_for_lookup()),
                Ok(None) | Err(_) => break,
            }
        }
        if out.is_empty() {
            out.push(regs.ip);
        }
        out
    }
}
