//! Naming frames: one [`NodeInfo`] per distinct (function, file, line, address, object)
//! at the profile's granularity, and each location's frames as node ids.

use std::borrow::Cow;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::NodeId;
use crate::{LocIdx, Profile};

/// What tells one graph node from another, as pprof's `graph.NodeInfo`. Strings borrow
/// from the profile (a large profile has a node per function), except cleaned file names
/// that cleaning changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeInfo<'a> {
    /// Function name.
    pub name: &'a str,
    /// System (mangled) name; kept empty, as pprof's text reports do.
    pub orig_name: &'a str,
    /// Instruction address (0 unless at address granularity).
    pub address: u64,
    /// Cleaned source file name.
    pub file: Cow<'a, str>,
    /// Function start line (only for frames without a function name).
    pub start_line: i64,
    /// Source line (0 unless at line granularity).
    pub lineno: i64,
    /// Mapping file (only for frames without a function name).
    pub objfile: &'a str,
}

impl<'a> NodeInfo<'a> {
    /// pprof's `PrintableName`: address, name, and `file:line`, file or `[object]`.
    pub fn printable_name(&self) -> Cow<'a, str> {
        if self.address == 0 && self.lineno == 0 && self.file.is_empty() && !self.name.is_empty() {
            // Function granularity, the default: the name alone, borrowed.
            return Cow::Borrowed(self.name);
        }
        let mut parts: Vec<String> = Vec::with_capacity(3);
        if self.address != 0 {
            parts.push(format!("{:016x}", self.address));
        }
        if !self.name.is_empty() {
            parts.push(self.name.to_string());
        }
        if self.lineno != 0 {
            parts.push(format!("{}:{}", self.file, self.lineno));
        } else if !self.file.is_empty() {
            parts.push(self.file.to_string());
        } else if !self.name.is_empty() {
        } else if !self.objfile.is_empty() {
            parts.push(format!("[{}]", base_name(self.objfile)));
        } else {
            parts.push("<unknown>".to_string());
        }
        Cow::Owned(parts.join(" "))
    }

    /// Go's `fmt.Sprint` of the struct, pprof's last-resort tie breaker.
    pub(crate) fn sprint(&self) -> String {
        format!(
            "{{{} {} {} {} {} {} {}}}",
            self.name,
            self.orig_name,
            self.address,
            self.file,
            self.start_line,
            self.lineno,
            self.objfile
        )
    }
}

/// Go's `filepath.Base`.
pub fn base_name(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    t.rsplit('/').next().unwrap_or(t)
}

/// Go's `filepath.Clean` (lexical: collapses `//`, `.` and `..`).
pub fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|p| *p != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// Every distinct frame of a profile, with its printable name, and each location's frames
/// (innermost inlined callee first) as node ids.
#[derive(Clone, Debug, Default)]
pub struct NodeIndex<'a> {
    infos: Vec<NodeInfo<'a>>,
    names: Vec<Cow<'a, str>>,
    loc_start: Vec<u32>,
    loc_nodes: Vec<NodeId>,
}

impl<'a> NodeIndex<'a> {
    /// Indexes the frames of `p` (pprof's `CreateNodes` without object names).
    pub fn new(p: &'a Profile) -> Self {
        // Frames by content, as indices into `infos`, so each is stored once.
        let mut table: HashTable<NodeId> = HashTable::with_capacity(p.locations.len());
        let hasher = FxBuildHasher;
        let mut idx = NodeIndex::default();
        let mut files: Vec<Option<Cow<'a, str>>> = vec![None; p.functions.len()];
        idx.loc_start.reserve_exact(p.locations.len() + 1);
        for loc in &p.locations {
            idx.loc_start.push(idx.loc_nodes.len() as u32);
            let objfile = p
                .location_mapping(loc)
                .map(|m| m.file.as_str())
                .unwrap_or("");
            let mut push = |info: NodeInfo<'a>, idx: &mut NodeIndex<'a>| {
                let hash = hasher.hash_one(&info);
                let infos = &idx.infos;
                let id = match table.find(hash, |&i| infos[i as usize] == info) {
                    Some(&id) => id,
                    None => {
                        let id = idx.infos.len() as NodeId;
                        idx.names.push(info.printable_name());
                        idx.infos.push(info);
                        let infos = &idx.infos;
                        table.insert_unique(hash, id, |&i| hasher.hash_one(&infos[i as usize]));
                        id
                    }
                };
                idx.loc_nodes.push(id);
            };
            if loc.lines.is_empty() {
                push(
                    NodeInfo {
                        address: loc.address,
                        objfile,
                        ..NodeInfo::default()
                    },
                    &mut idx,
                );
                continue;
            }
            for line in &loc.lines {
                let Some(f) = line
                    .function
                    .and_then(|f| p.functions.get(f as usize).map(|x| (f, x)))
                else {
                    push(
                        NodeInfo {
                            address: loc.address,
                            objfile,
                            ..NodeInfo::default()
                        },
                        &mut idx,
                    );
                    continue;
                };
                let (fi, func) = f;
                let file = if func.filename.is_empty() {
                    Cow::Borrowed("")
                } else {
                    files[fi as usize]
                        .get_or_insert_with(|| {
                            let clean = clean_path(&func.filename);
                            if clean == func.filename {
                                Cow::Borrowed(func.filename.as_str())
                            } else {
                                Cow::Owned(clean)
                            }
                        })
                        .clone()
                };
                let mut info = NodeInfo {
                    name: &func.name,
                    address: loc.address,
                    lineno: line.line,
                    file,
                    ..NodeInfo::default()
                };
                if info.name.is_empty() {
                    info.objfile = objfile;
                    info.start_line = func.start_line;
                }
                push(info, &mut idx);
            }
        }
        idx.loc_start.push(idx.loc_nodes.len() as u32);
        idx
    }

    /// Number of distinct frames.
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    /// Whether the profile has no frames.
    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    /// The frame of a node.
    pub fn info(&self, id: NodeId) -> &NodeInfo<'a> {
        &self.infos[id as usize]
    }

    /// The printable name of a node.
    pub fn name(&self, id: NodeId) -> &str {
        &self.names[id as usize]
    }

    /// The frames of a location, innermost first; empty for an unknown location.
    pub fn location_nodes(&self, loc: LocIdx) -> &[NodeId] {
        let i = loc as usize;
        match (self.loc_start.get(i), self.loc_start.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.loc_nodes[a as usize..b as usize],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean_path("/a//b/./c/../d"), "/a/b/d");
        assert_eq!(clean_path("a/../../b"), "../b");
        assert_eq!(clean_path("/.."), "/");
        assert_eq!(base_name("/usr/bin/x"), "x");
        assert_eq!(base_name("x/"), "x");
    }
}
