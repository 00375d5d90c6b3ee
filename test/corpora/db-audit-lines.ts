/**
 * Log lines captured from real servers (PostgreSQL 15.20 with pgAudit 1.7.0 from Debian's
 * postgresql-15-pgaudit; MariaDB 10.11.19 with its server_audit plugin), started privately
 * on this machine, as the parsers' fixtures: written by the databases, not by Vigil.
 */
export const CAPTURED = {
  pgJsonSelectWithCommas:
    '{"timestamp":"2026-12-02 18:44:41.904 UTC","user":"agent_db","dbname":"postgres","pid":12918,"remote_host":"127.0.0.1","remote_port":51336,"session_id":"6b106719.3276","line_num":1,"ps":"SELECT","session_start":"2026-12-02 18:44:41 UTC","vxid":"3/86","txid":0,"error_severity":"LOG","message":"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.items,\\"select id, name from items where name = \'a,\\"\\"b\\"\\"\\nc\'\\",<not logged>","application_name":"psql","backend_type":"client backend","query_id":0}',
  pgJsonInsert:
    '{"timestamp":"2026-12-02 18:30:59.909 UTC","user":"agent_db","dbname":"postgres","pid":7764,"remote_host":"127.0.0.1","remote_port":56268,"session_id":"6b1063e3.1e54","line_num":2,"ps":"INSERT","session_start":"2026-12-02 18:30:59 UTC","vxid":"3/4","txid":0,"error_severity":"LOG","message":"AUDIT: SESSION,2,1,WRITE,INSERT,TABLE,public.orders,select * from orders; insert into orders values (1); drop table orders;,<not logged>","application_name":"psql","backend_type":"client backend","query_id":0}',
  pgJsonError:
    '{"timestamp":"2026-12-02 18:30:59.910 UTC","user":"agent_db","dbname":"postgres","pid":7764,"remote_host":"127.0.0.1","remote_port":56268,"session_id":"6b1063e3.1e54","line_num":3,"ps":"DROP TABLE","session_start":"2026-12-02 18:30:59 UTC","vxid":"3/4","txid":725,"error_severity":"ERROR","state_code":"42501","message":"must be owner of table orders","statement":"select * from orders; insert into orders values (1); drop table orders;","application_name":"psql","backend_type":"client backend","query_id":0}',
  // A statement the database refused (no pgAudit entry: PostgreSQL's ERROR line names it), captured 2026-12-03.
  pgJsonRefusedDelete:
    '{"timestamp":"2026-12-03 06:31:09.780 UTC","user":"agent_ro","dbname":"postgres","pid":22564,"remote_host":"127.0.0.1","remote_port":48248,"session_id":"6b110cad.5824","line_num":1,"ps":"DELETE","session_start":"2026-12-03 06:31:09 UTC","vxid":"3/8","txid":0,"error_severity":"ERROR","state_code":"42501","message":"permission denied for table orders","statement":"DELETE FROM orders WHERE id > 0","application_name":"psql","backend_type":"client backend","query_id":0}',
  pgCsvRefusedDelete:
    '2026-12-03 06:31:09.780 UTC,"agent_ro","postgres",22564,"127.0.0.1:48248",6b110cad.5824,1,"DELETE",2026-12-03 06:31:09 UTC,3/8,0,ERROR,42501,"permission denied for table orders",,,,,,"DELETE FROM orders WHERE id > 0",,,"psql","client backend",,0',
  pgCsvMultiline:
    '2026-12-02 18:44:41.904 UTC,"agent_db","postgres",12918,"127.0.0.1:51336",6b106719.3276,1,"SELECT",2026-12-02 18:44:41 UTC,3/86,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.items,""select id, name from items where name = \'a,""""b""""\nc\'"",<not logged>",,,,,,,,,"psql","client backend",,0',
  mariadbQueryEscaped:
    "20261202 18:32:47,vm,agent_db,localhost,6,11,QUERY,shop,'update orders set id=3 where id = \\'it\\'\\'s\\nx\\'',1292",
  mariadbQuery: "20261202 18:32:47,vm,agent_db,localhost,6,9,QUERY,shop,'select * from orders',0",
  mariadbTableEvent: "20261202 18:32:47,vm,agent_db,localhost,6,9,READ,mysql,index_stats,",
} as const;
