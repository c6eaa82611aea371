import { describe, expect, it } from 'vitest'
import {
  autoChoice,
  decodeHeader,
  fileKind,
  firstRecordBytes,
  fromMapping,
  HeaderError,
  headerColumns,
  missingRequired,
  percent,
  readCsvHeader,
  reusedColumns,
  splitRecord,
  toMapping,
  unknownColumns,
  type ImportField,
} from '@/modules/registry/imports/importFile'

const FIELDS: ImportField[] = [
  { name: 'person_type', description: '', required: true, aliases: ['人员类型'] },
  { name: 'name', description: '', required: true, aliases: ['姓名'] },
  { name: 'sex', description: '', required: true, aliases: ['性别'] },
  { name: 'birth_date', description: '', required: true, aliases: ['出生日期'] },
  { name: 'id_number', description: '', required: false, aliases: ['身份证号', '公民身份号码'] },
  { name: 'house_id', description: '', required: true, aliases: ['房屋编号'] },
  { name: 'grid_code', description: '', required: true, aliases: ['网格编码'] },
]

// "姓名,性别" in GBK (Excel's plain CSV on Chinese Windows).
const GBK_NAME_SEX = [0xd0, 0xd5, 0xc3, 0xfb, 0x2c, 0xd0, 0xd4, 0xb1, 0xf0]

describe('reading the header of a CSV', () => {
  it('decodes UTF-8, drops a BOM, and falls back to GBK', () => {
    const utf8 = new TextEncoder().encode('姓名,性别')
    expect(decodeHeader(utf8)).toEqual({ text: '姓名,性别', encoding: 'utf-8' })
    expect(decodeHeader(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8]))).toEqual({ text: '姓名,性别', encoding: 'utf-8' })
    expect(decodeHeader(new Uint8Array(GBK_NAME_SEX))).toEqual({ text: '姓名,性别', encoding: 'gbk' })
  })

  it('refuses UTF-16', () => {
    expect(() => decodeHeader(new Uint8Array([0xff, 0xfe, 0x53, 0x59]))).toThrow(HeaderError)
  })

  it('stops at the first line feed outside quotes', () => {
    const bytes = new TextEncoder().encode('"a\nb",c\r\n1,2\n')
    expect(new TextDecoder().decode(firstRecordBytes(bytes))).toBe('"a\nb",c\r')
  })

  it('splits quoted cells, doubled quotes, and tab-separated headers', () => {
    expect(splitRecord('a,"b,c","say ""hi""",d\r')).toEqual(['a', 'b,c', 'say "hi"', 'd'])
    expect(splitRecord('姓名\t性别\t出生日期')).toEqual(['姓名', '性别', '出生日期'])
    expect(headerColumns(' 姓名 ,性别,,')).toEqual(['姓名', '性别'])
    expect(() => headerColumns(',,')).toThrow(HeaderError)
    expect(() => headerColumns('姓名,姓名')).toThrow(/duplicate/)
  })

  it('reads a file', async () => {
    const gbk = new Blob([new Uint8Array([...GBK_NAME_SEX, 0x0d, 0x0a, 0x31, 0x2c, 0x32])])
    expect(await readCsvHeader(gbk)).toEqual({ columns: ['姓名', '性别'], encoding: 'gbk' })
    const utf8 = new Blob(['\ufeffname,sex,birth_date\n张三,1,1990-01-01\n'])
    expect(await readCsvHeader(utf8)).toEqual({ columns: ['name', 'sex', 'birth_date'], encoding: 'utf-8' })
  })

  it('knows CSV and XLSX by the name', () => {
    expect(fileKind('人口.CSV')).toBe('csv')
    expect(fileKind('houses.xlsx')).toBe('xlsx')
    expect(fileKind('old.xls')).toBeNull()
  })
})

describe('mapping columns to fields', () => {
  const columns = ['姓名', 'SEX', '出生日期', '公民身份号码', '备注']

  it('maps columns by field name or usual heading, like the server', () => {
    const choice = autoChoice(FIELDS, columns)
    expect(choice).toEqual({
      person_type: null,
      name: '姓名',
      sex: 'SEX',
      birth_date: '出生日期',
      id_number: '公民身份号码',
      house_id: null,
      grid_code: null,
    })
    expect(toMapping(choice)).toEqual({ 姓名: 'name', SEX: 'sex', 出生日期: 'birth_date', 公民身份号码: 'id_number' })
  })

  it('lists the required groups still missing (house id or grid code is one group)', () => {
    const choice = autoChoice(FIELDS, columns)
    expect(missingRequired('people', FIELDS, choice)).toEqual([['person_type'], ['house_id', 'grid_code']])
    choice.person_type = '类型'
    choice.grid_code = '网格'
    expect(missingRequired('people', FIELDS, choice)).toEqual([])
  })

  it('round-trips a saved mapping and finds columns the file lacks or that are used twice', () => {
    const choice = fromMapping(FIELDS, { 姓名: 'name', 网格: 'grid_code', 旧列: 'no_such_field' })
    expect(choice.name).toBe('姓名')
    expect(choice.grid_code).toBe('网格')
    expect(unknownColumns(choice, columns)).toEqual(['网格'])
    choice.sex = '姓名'
    expect(reusedColumns(choice)).toEqual(['姓名'])
  })
})

describe('job progress', () => {
  it('is a percentage once the total is known', () => {
    expect(percent(0, null)).toBeNull()
    expect(percent(5, 0)).toBeNull()
    expect(percent(1, 3)).toBe(33)
    expect(percent(7, 5)).toBe(100)
  })
})
